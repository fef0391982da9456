from django import forms

from core.forms import BootstrapFormMixin, offer_only
from core.validation import time_zone_choices

from .models import Delegation, Scope, User
from .selectors import people_to_delegate_to


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
        # Anyone resolves, so that the rules of Delegation.clean refuse a choice in the API's
        # words (services.create_delegation); only those who may be chosen are listed.
        self.fields["delegate"].queryset = User.objects.all()
        offer_only(self.fields["delegate"], people_to_delegate_to(delegator))

    def delegation_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class TimeZoneForm(BootstrapFormMixin, forms.ModelForm):
    """The zone a person reads times and due times in; empty follows their team's calendar."""

    class Meta:
        model = User
        fields = ["time_zone"]
        labels = {"time_zone": "Your time zone"}
        help_texts = {
            "time_zone": "Times and due times show in this zone. Choose the first entry to "
            "follow the working-hours calendar of your team."
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"] = forms.ChoiceField(
            label=self.fields["time_zone"].label,
            help_text=self.fields["time_zone"].help_text,
            required=False,
            choices=[("", "The time zone of my team's working hours"), *time_zone_choices()],
        )


class ApiTokenForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(max_length=100, help_text="What it is for, e.g. “Reporting script”.")
    scopes = forms.MultipleChoiceField(
        choices=Scope.personal(),
        widget=forms.CheckboxSelectMultiple,
        help_text="Give it only what it needs.",
    )
    days = forms.IntegerField(label="Valid for (days)", min_value=1, max_value=366, initial=90)
