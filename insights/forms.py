"""The filter forms of the dashboard, the API and the exports. Their query parameters are
`from`, `to` and `department`; `from` being a Python keyword, the fields are named `date_from`
and `date_to` and QueryParamsMixin maps them to their parameters."""

from django import forms

from accounts.models import Department
from core.forms import BootstrapFormMixin
from core.validation import validate_date_in_range

from .selectors import FigureFilters

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# Filters add a day to `to` and turn dates into datetimes: keep them inside the calendar.
DATE_BOUNDS = {"validators": [validate_date_in_range]}


class QueryParamsMixin:
    PARAMS = {"date_from": "from", "date_to": "to"}

    def add_prefix(self, field_name):
        return super().add_prefix(self.PARAMS.get(field_name, field_name))

    def param_errors(self) -> dict[str, list[str]]:
        """The form's errors keyed by query parameter, as the API and the exports answer."""
        return {self.PARAMS.get(name, name): errors for name, errors in self.errors.items()}


class DateRangeMixin:
    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The end date must not be before the start date.")
        return cleaned


class DateRangeForm(QueryParamsMixin, DateRangeMixin, forms.Form):
    """From and to, inclusive, in the user's time zone (the audit export's filter)."""

    date_from = forms.DateField(label="From", required=False, widget=DATE_INPUT, **DATE_BOUNDS)
    date_to = forms.DateField(label="To", required=False, widget=DATE_INPUT, **DATE_BOUNDS)


class FigureFilterForm(BootstrapFormMixin, DateRangeForm):
    """The dashboard's filters: the dates a request was submitted between, and its department."""

    date_from = forms.DateField(
        label="Submitted from", required=False, widget=DATE_INPUT, **DATE_BOUNDS
    )
    date_to = forms.DateField(
        label="Submitted until", required=False, widget=DATE_INPUT, **DATE_BOUNDS
    )
    department = forms.ModelChoiceField(
        queryset=Department.objects.order_by("name"),
        required=False,
        empty_label="All departments",
    )

    def filters(self) -> FigureFilters:
        """The cleaned filters; call after `is_valid()`."""
        data = self.cleaned_data
        return FigureFilters(
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            department=data.get("department"),
        )


class ExportFilterForm(QueryParamsMixin, DateRangeMixin, forms.Form):
    """The base form of the requests export's filter set (insights.filters), whose filters
    bring the fields."""
