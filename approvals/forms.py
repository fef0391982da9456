from django import forms

from accounts.models import Department, User
from core.forms import BootstrapFormMixin
from intake.models import Category, DataClassification, PurchaseRequest

from .models import VENDOR_STATUS_CHOICES


class DecisionForm(BootstrapFormMixin, forms.Form):
    comment = forms.CharField(
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required to reject or to request changes.",
    )


class ConsultForm(forms.Form):
    """Ask a colleague: whom (checked by the service's policy) and what."""

    colleague = forms.ModelChoiceField(
        User.objects.filter(is_active=True),
        error_messages={"required": "Choose the colleague to ask.",
                        "invalid_choice": "Choose a colleague from the list."},
    )  # fmt: skip
    question = forms.CharField(
        max_length=10_000, error_messages={"required": "Write the question for your colleague."}
    )


class AnswerForm(forms.Form):
    answer = forms.CharField(max_length=10_000, error_messages={"required": "Write your answer."})


class PreviewForm(BootstrapFormMixin, forms.Form):
    """Either a request number, or the facts of a request not filed yet."""

    number = forms.CharField(label="Request number", required=False, max_length=20)
    total = forms.DecimalField(
        label="Total cost (base currency)", required=False, max_digits=14, decimal_places=2
    )
    category = forms.ModelChoiceField(
        Category.objects.filter(active=True), required=False, to_field_name="slug"
    )
    data_classification = forms.ChoiceField(
        choices=[("", "---------"), *DataClassification.choices], required=False
    )
    personal_data = forms.NullBooleanField(label="Handles personal data", required=False)
    vendor_status = forms.ChoiceField(
        choices=[("", "---------"), *VENDOR_STATUS_CHOICES], required=False
    )
    department = forms.ModelChoiceField(
        Department.objects.all(), required=False, to_field_name="cost_centre"
    )

    def __init__(self, *args, requests=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.requests = requests if requests is not None else PurchaseRequest.objects.none()
        self.fields["personal_data"].widget.choices = [
            ("unknown", "Either"),
            ("true", "Yes"),
            ("false", "No"),
        ]

    def clean_number(self):
        number = self.cleaned_data["number"].strip()
        if number:
            try:
                self.cleaned_data["request"] = self.requests.get(number__iexact=number)
            except PurchaseRequest.DoesNotExist:
                raise forms.ValidationError(f"No request {number} that you may see.") from None
        return number
