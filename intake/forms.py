from django import forms
from django.core.exceptions import ValidationError

from core.forms import BootstrapFormMixin
from core.uploads import ALLOWED_LABEL, check_upload
from core.validation import currency_choices, validate_date_in_range, validate_one_line
from vendors.models import Vendor, VendorStatus

from .models import (
    CENT,
    MAX_LINE_ITEMS,
    MAX_QUANTITY,
    MAX_UNIT_PRICE,
    Category,
    PurchaseRequest,
)
from .services import EDITABLE_FIELDS

# The sections of the "New request" page, in order: (title, fields).
SECTIONS = [
    ("What", ["title", "description", "category", "department", "needed_by"]),
    ("Why", ["business_justification", "expected_benefit"]),
    ("Cost", ["currency", "billing", "term_months"]),
    ("Vendor", ["vendor", "proposed_vendor_name", "proposed_vendor_website"]),
    (
        "Data and security",
        [
            "data_classification",
            "handles_personal_data",
            "integrates_with_systems",
            "integration_details",
        ],
    ),
]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input, each checked by size and content."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg,.docx,.xlsx,.csv"})
        )
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        errors = []
        for uploaded in files:
            try:
                check_upload(super().clean(uploaded, initial))
            except ValidationError as error:
                errors.extend(error.messages)
        if errors:
            raise ValidationError(errors)
        return files


class PurchaseRequestForm(BootstrapFormMixin, forms.ModelForm):
    """The requester's form. A draft needs only a title; `submit` checks completeness
    (intake.services.submission_errors) and the errors land on these same fields."""

    handles_personal_data = forms.NullBooleanField(
        label="Handles personal data",
        required=False,
        widget=forms.NullBooleanSelect,
    )
    currency = forms.ChoiceField(choices=currency_choices, initial="EUR")
    proposed_vendor_website = forms.URLField(
        label="New vendor's website", required=False, max_length=200, assume_scheme="https"
    )
    attachments = MultipleFileField(
        required=False,
        help_text=f"Quotes or specifications: {ALLOWED_LABEL}, at most 10 MB each.",
    )

    class Meta:
        model = PurchaseRequest
        fields = EDITABLE_FIELDS
        widgets = {
            "needed_by": forms.DateInput(attrs={"type": "date"}),
            "description": forms.Textarea(attrs={"rows": 3}),
            "business_justification": forms.Textarea(attrs={"rows": 3}),
            "expected_benefit": forms.Textarea(attrs={"rows": 2}),
            "integration_details": forms.Textarea(attrs={"rows": 2}),
        }
        labels = {
            "term_months": "Term (months)",
            "proposed_vendor_name": "Or propose a new vendor: name",
            "integrates_with_systems": "Integrates with company systems",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.filter(active=True)
        self.fields["vendor"].queryset = Vendor.objects.exclude(
            status__in=[VendorStatus.REJECTED, VendorStatus.OFFBOARDED]
        )
        self.fields["vendor"].label = "Existing vendor"
        self.fields["handles_personal_data"].widget.choices = [
            ("unknown", "Not answered yet"),
            ("true", "Yes"),
            ("false", "No"),
        ]

    def request_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in EDITABLE_FIELDS}

    def sections(self):
        return [(title, [self[name] for name in names]) for title, names in SECTIONS]


class LineItemForm(BootstrapFormMixin, forms.Form):
    description = forms.CharField(max_length=300, validators=[validate_one_line])
    quantity = forms.DecimalField(
        max_digits=12, decimal_places=2, min_value=CENT, max_value=MAX_QUANTITY
    )
    unit_price = forms.DecimalField(
        label="Unit price",
        max_digits=14,
        decimal_places=2,
        min_value=CENT,
        max_value=MAX_UNIT_PRICE,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.widget.attrs["aria-label"] = field.label or name.capitalize()


class BaseLineItemFormSet(forms.BaseFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "DELETE" in form.fields:  # the formset adds it after the form's own labels
            line = "the new line" if index is None else f"line {index + 1}"
            form.fields["DELETE"].widget.attrs["aria-label"] = f"Remove {line}"

    def rows(self) -> list[dict]:
        """The filled-in rows, without empty and deleted ones."""
        return [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]


LineItemFormSet = forms.formset_factory(
    LineItemForm,
    formset=BaseLineItemFormSet,
    extra=2,
    can_delete=True,
    max_num=MAX_LINE_ITEMS,
    validate_max=True,
)


ID = {"required": False, "min_value": 1, "max_value": 2**63 - 1}


class DuplicateCheckForm(forms.Form):
    """The parameters of the duplicate check (htmx, as the request form changes)."""

    title = forms.CharField(required=False)
    vendor = forms.IntegerField(**ID)
    exclude = forms.IntegerField(**ID)


class MarkOrderedForm(BootstrapFormMixin, forms.Form):
    po_number = forms.CharField(label="PO number", max_length=50, validators=[validate_one_line])
    ordered_on = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}), validators=[validate_date_in_range]
    )


class CloseForm(BootstrapFormMixin, forms.Form):
    received_on = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}), validators=[validate_date_in_range]
    )


class CommentForm(BootstrapFormMixin, forms.Form):
    body = forms.CharField(
        label="Comment", max_length=10_000, widget=forms.Textarea(attrs={"rows": 3})
    )


class AttachmentForm(BootstrapFormMixin, forms.Form):
    attachments = MultipleFileField(label="Add attachments")


class RatingForm(BootstrapFormMixin, forms.Form):
    """Supplier performance, 1 (poor) to 5 (excellent)."""

    delivery = forms.IntegerField(min_value=1, max_value=5)
    quality = forms.IntegerField(min_value=1, max_value=5)
    support = forms.IntegerField(min_value=1, max_value=5)
    comment = forms.CharField(
        required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )
