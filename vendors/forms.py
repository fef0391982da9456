"""Input checks of the vendor pages. The rules of the records themselves (expiry after issue,
contract end after start, one answer per question) live in the models and services; these
forms only turn what was posted into the arguments of `vendors.services`."""

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q

from accounts.roles import ALL_GROUPS
from core.forms import BootstrapFormMixin, IdsMultipleChoiceField
from core.uploads import ALLOWED_LABEL
from core.validation import currency_choices

from .filters import VendorFilter
from .models import Certificate, Contract, SecurityQuestion, Vendor
from .services import VENDOR_FIELDS

DATE = {"type": "date"}


class VendorFilterForm(BootstrapFormMixin, forms.Form):
    """The list's filters: statuses and tiers as check boxes, so they work without a mouse."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("status", "risk_tier"):
            field = self.fields[name]
            field.widget = forms.CheckboxSelectMultiple(
                attrs={"class": "form-check-input"}, choices=field.choices
            )
        expiring = self.fields["certificates_expiring"]
        expiring.label = "Certificates expiring within 30 days"
        expiring.widget.choices = [("", "Any"), ("true", "Yes"), ("false", "No")]
        self.fields["name"].widget.attrs["placeholder"] = "Name contains…"


class VendorListFilter(VendorFilter):
    class Meta(VendorFilter.Meta):
        form = VendorFilterForm


class VendorForm(BootstrapFormMixin, forms.ModelForm):
    website = forms.URLField(required=False, max_length=200, assume_scheme="https")
    carbon_disclosure = forms.NullBooleanField(
        label="Carbon disclosure",
        required=False,
        widget=forms.NullBooleanSelect,
        help_text="Does the vendor publish its carbon emissions?",
    )

    class Meta:
        model = Vendor
        fields = VENDOR_FIELDS
        widgets = {
            "conditions": forms.Textarea(attrs={"rows": 2}),
            "sustainability_notes": forms.Textarea(attrs={"rows": 2}),
        }
        labels = {"country": "Country (ISO code)", "contact_name": "Contact name"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["carbon_disclosure"].widget.choices = [
            ("unknown", "Not known"),
            ("true", "Yes"),
            ("false", "No"),
        ]

    def clean_country(self):
        return self.cleaned_data["country"].strip().upper()

    def vendor_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in VENDOR_FIELDS}


class QuestionnaireForm(forms.Form):
    """One radio group per active question, named `question_<id>` like the service's errors;
    the vendor's current answers are preselected."""

    def __init__(self, *args, vendor: Vendor, **kwargs):
        super().__init__(*args, **kwargs)
        current = dict(vendor.answers.values_list("question_id", "option_id"))
        self.questions = list(
            SecurityQuestion.objects.filter(active=True).prefetch_related("options")
        )
        for question in self.questions:
            self.fields[f"question_{question.pk}"] = forms.TypedChoiceField(
                label=question.text,
                choices=[(option.pk, option.label) for option in question.options.all()],
                coerce=int,
                widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
                initial=current.get(question.pk),
                error_messages={"required": "Choose an answer."},
            )

    def answers(self) -> dict[int, int]:
        return {q.pk: self.cleaned_data[f"question_{q.pk}"] for q in self.questions}


class CertificateForm(BootstrapFormMixin, forms.ModelForm):
    document = forms.FileField(
        required=False,
        help_text=f"{ALLOWED_LABEL}, at most 10 MB.",
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg,.docx,.xlsx,.csv"}),
    )

    class Meta:
        model = Certificate
        fields = ["kind", "issuer", "issued_on", "expires_on"]
        widgets = {"issued_on": forms.DateInput(DATE), "expires_on": forms.DateInput(DATE)}
        labels = {"issued_on": "Issued on", "expires_on": "Expires on"}

    def certificate_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


def contract_owners():
    """People who may own a contract: reviewers, leaders, finance and admins."""
    return (
        get_user_model()
        .objects.filter(Q(groups__name__in=ALL_GROUPS) | Q(is_staff=True), is_active=True)
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


class ContractForm(BootstrapFormMixin, forms.ModelForm):
    currency = forms.ChoiceField(choices=currency_choices, initial="EUR")

    class Meta:
        model = Contract
        fields = [
            "title",
            "starts_on",
            "ends_on",
            "auto_renew",
            "notice_days",
            "annual_value",
            "currency",
            "seats",
            "owner",
            "requests",
        ]
        field_classes = {"requests": IdsMultipleChoiceField}
        widgets = {
            "starts_on": forms.DateInput(DATE),
            "ends_on": forms.DateInput(DATE),
            "requests": forms.SelectMultiple(attrs={"size": 4}),
        }
        labels = {
            "starts_on": "Starts on",
            "ends_on": "Ends on",
            "auto_renew": "Renews automatically",
            "notice_days": "Notice (days)",
            "annual_value": "Annual value",
            "requests": "Requests it came from",
        }

    def __init__(self, *args, requests, **kwargs):
        """`requests`: the vendor's requests the user may see, which the contract may name."""
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = contract_owners()
        self.fields["requests"].queryset = requests
        self.fields["requests"].required = False
        self.fields["requests"].label_from_instance = lambda pr: f"{pr.number} {pr.title}"

    def contract_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields if name != "requests"}
