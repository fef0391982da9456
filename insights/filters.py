"""The filters of the requests export: those of the requests list and API (state, category,
vendor, mine, awaiting=me) plus the dashboard's department and submission dates."""

from datetime import timedelta

import django_filters

from accounts.models import Department
from intake.api.filters import PurchaseRequestFilter

from .forms import DATE_BOUNDS, ExportFilterForm
from .selectors import start_of


class RequestExportFilter(PurchaseRequestFilter):
    department = django_filters.ModelChoiceFilter(queryset=Department.objects.all())
    date_from = django_filters.DateFilter(
        label="Submitted from", method="filter_date_from", **DATE_BOUNDS
    )
    date_to = django_filters.DateFilter(
        label="Submitted until", method="filter_date_to", **DATE_BOUNDS
    )

    class Meta(PurchaseRequestFilter.Meta):
        fields = [*PurchaseRequestFilter.Meta.fields, "department"]
        form = ExportFilterForm

    def filter_date_from(self, queryset, name, value):
        return queryset.filter(submitted_at__gte=start_of(value))

    def filter_date_to(self, queryset, name, value):
        return queryset.filter(submitted_at__lt=start_of(value + timedelta(days=1)))
