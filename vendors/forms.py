"""Input checks of the vendor pages. The rules of the records themselves (expiry after issue,
contract end after start, one answer per question) live in the models and services; these
forms only turn what was posted into the arguments of `vendors.services`."""

from django import forms
from django.contrib.auth import get_user_model

from core.forms import BootstrapFormMixin, IdsMultipleChoiceField, offer_only, refused_by
from core.uploads import ALLOWED_LABEL
from core.validation import currency_choices

from .filters import VendorFilter
from .models import Certificate, Contract, SecurityQuestion, Vendor
from .selectors import NOT_A_REQUEST_TO_NAME, contract_owners, why_cannot_own_contracts
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
        error_messages = {"requests": {"invalid_choice": NOT_A_REQUEST_TO_NAME.format("%(value)s")}}

    def __init__(self, *args, requests, **kwargs):
        """`requests`: the vendor's requests the user may see, which the contract may name."""
        super().__init__(*args, **kwargs)
        # Anyone resolves, so that one who may not own a contract is refused by the rule
        # (clean_owner, and add_contract again) in the API's words; only those who may are listed.
        self.fields["owner"].queryset = get_user_model().objects.all()
        offer_only(self.fields["owner"], contract_owners())
        self.fields["requests"].queryset = requests
        self.fields["requests"].required = False
        self.fields["requests"].label_from_instance = lambda pr: f"{pr.number} {pr.title}"

    def clean_owner(self):
        return refused_by(why_cannot_own_contracts, self.cleaned_data["owner"])

    def contract_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields if name != "requests"}


class VendorImportForm(BootstrapFormMixin, forms.Form):
    file = forms.FileField(
        label="CSV or XLSX file",
        help_text="One row per vendor, or per contract of a vendor. CSV in UTF-8 or an Excel "
        "workbook (its first sheet), at most 1 MB.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
    )
