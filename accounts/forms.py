from django import forms

from core.forms import BootstrapFormMixin

from .models import Delegation, Scope, User


class DelegationForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = Delegation
        fields = ["delegate", "starts_at", "ends_at"]
        widgets = {
            "starts_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "ends_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
        }
        labels = {"starts_at": "From", "ends_at": "Until"}

    EARLIEST_YEAR, LATEST_YEAR = 2000, 2100

    def __init__(self, *args, delegator, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.delegator = delegator
        self.fields["delegate"].queryset = User.objects.filter(is_active=True).exclude(
            pk=delegator.pk
        )

    def _clean_year(self, field):
        value = self.cleaned_data.get(field)
        if value and not self.EARLIEST_YEAR <= value.year <= self.LATEST_YEAR:
            raise forms.ValidationError(
                f"Choose a date between {self.EARLIEST_YEAR} and {self.LATEST_YEAR}."
            )
        return value

    def clean_starts_at(self):
        return self._clean_year("starts_at")

    def clean_ends_at(self):
        return self._clean_year("ends_at")


class ApiTokenForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(max_length=100, help_text="What it is for, e.g. “Reporting script”.")
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="Give it only what it needs.",
    )
    days = forms.IntegerField(label="Valid for (days)", min_value=1, max_value=366, initial=90)
