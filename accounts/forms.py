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

    def __init__(self, *args, delegator, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.delegator = delegator
        self.fields["delegate"].queryset = User.objects.filter(is_active=True).exclude(
            pk=delegator.pk
        )


class ApiTokenForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(max_length=100, help_text="What it is for, e.g. “Reporting script”.")
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="Give it only what it needs.",
    )
    days = forms.IntegerField(label="Valid for (days)", min_value=1, max_value=366, initial=90)
