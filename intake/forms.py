from decimal import Decimal

from django import forms
from django.conf import settings

from core.formats import currency_digits
from core.forms import BootstrapFormMixin, FreeTextField, offer_only, refused_by
from core.uploads import ALLOWED_LABEL
from core.validation import currency_choices, validate_date_in_range, validate_one_line
from vendors.models import Vendor
from vendors.selectors import vendors_to_request_from, why_a_request_cannot_name

from .models import (
    CENT,
    MAX_LINE_ITEMS,
    MAX_QUANTITY,
    MAX_UNIT_PRICE,
    Category,
    ExchangeRate,
    PurchaseRequest,
    total_cost_of_ownership,
)
from .selectors import categories_to_request_in, usual_currencies, why_a_request_cannot_use
from .services import (
    ANSWER_REQUIRED_TO_SUBMIT,
    EDITABLE_FIELDS,
    ONE_OF_REQUIRED_TO_SUBMIT,
    REQUIRED_TO_SUBMIT,
    REQUIRED_WHEN,
)

# The prefix of the line items' formset in the form's field names (items-0-quantity, ...).
LINE_ITEMS_PREFIX = "items"

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
        """Each file as Django's FileField takes it; what a file may be (size, real content
        type) is checked once, by the service that stores it (intake.services)."""
        files = data if isinstance(data, list | tuple) else [data] if data else []
        return [super(MultipleFileField, self).clean(uploaded, initial) for uploaded in files]


class VendorSelect(forms.Select):
    """The vendor list; each option carries the vendor's status and risk tier in words, which
    the form shows beside the choice (static/js/request_form.js)."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        vendor = getattr(value, "instance", None)
        if vendor is not None:
            option["attrs"]["data-status"] = vendor.get_status_display()
            option["attrs"]["data-approved"] = "true" if vendor.is_approved else "false"
            option["attrs"]["data-tier"] = vendor.get_risk_tier_display() or "Not assessed"
        return option


class CurrencySelect(forms.Select):
    """The currencies; one whose amounts do not show two decimals says how many
    (`data-digits`), so that the form's script writes amounts as core.formats.money does."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        digits = currency_digits(value) if value else 2
        if digits != 2:
            option["attrs"]["data-digits"] = str(digits)
        return option


# What an empty choice means, said in each select instead of "---------".
EMPTY_CHOICES = {
    "category": "Choose a category",
    "department": "Choose the department to charge",
    "vendor": "None: I propose a new vendor below",
    "data_classification": "Choose how sensitive its data is",
}
# The words that mark a pair of which one field is needed to submit (no star on either).
ONE_OF_NOTES = {
    "vendor": "One of the two is needed to submit: an existing vendor, or a new one proposed "
    "below.",
    "proposed_vendor_name": "One of the two is needed to submit: a new vendor, or an existing "
    "one chosen above.",
}


def grouped_currencies() -> list:
    """The currency choices with the company's usual ones first: "Usual" (the base currency and
    those with an exchange rate), then "All currencies" (the full list, which validation keeps
    using). Read when the select is shown, not when the form is only checked."""
    usual = usual_currencies()
    every = currency_choices()
    labels = dict(every)
    return [
        ("Usual", [(code, labels[code]) for code in usual if code in labels]),
        ("All currencies", every),
    ]


# Up to this many vendors "Existing vendor" lists them all; beyond, only the chosen one, and the
# vendor search above it adds the one picked (5,000 options made the form 600 KB and 0.8 s).
VENDOR_LIST_LIMIT = 200


class PurchaseRequestForm(BootstrapFormMixin, forms.ModelForm):
    """The requester's form. A draft needs only a title; `submit` checks completeness
    (intake.services.submission_errors) and the errors land on these same fields."""

    handles_personal_data = forms.NullBooleanField(
        label="Handles personal data",
        required=False,
        widget=forms.NullBooleanSelect,
    )
    currency = forms.ChoiceField(
        choices=currency_choices, initial=settings.TANDEM_BASE_CURRENCY, widget=CurrencySelect
    )
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
            "vendor": VendorSelect,
        }
        labels = {
            "term_months": "Term (months)",
            "proposed_vendor_name": "Or propose a new vendor: name",
            "integrates_with_systems": "Integrates with company systems",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Every category and vendor resolves, so that one a request may not name is refused by
        # the rule (clean_category, clean_vendor) in the API's words; only those it may are listed.
        self._say_what_empty_means()
        self.fields["category"].queryset = Category.objects.all()
        self._offer(self.fields["category"], "category", categories_to_request_in())
        self.fields["vendor"].queryset = Vendor.objects.all()
        self.fields["vendor"].label = "Existing vendor"
        self._offer_vendors()
        # Validation keeps the full list (the field's choices); the select shows it grouped.
        self.fields["currency"].widget.choices = grouped_currencies
        self.fields["handles_personal_data"].widget.choices = [
            ("unknown", "Not answered yet"),
            ("true", "Yes"),
            ("false", "No"),
        ]
        # The markers follow what submit requires (intake.services.submission_errors); a
        # draft needs only its title.
        for name in (*REQUIRED_TO_SUBMIT, *ANSWER_REQUIRED_TO_SUBMIT):
            self.fields[name].submit_required = True
            self.fields[name].widget.attrs["aria-required"] = "true"
        holds = self._conditions()
        for name, condition in REQUIRED_WHEN.items():
            self.fields[name].required_when = condition
            self.fields[name].required_now = holds[condition]
        # Either field of a pair will do: no star, the pair says so in words.
        for name in (name for pair in ONE_OF_REQUIRED_TO_SUBMIT for name in pair):
            self.fields[name].one_of = ONE_OF_NOTES[name]
            self.fields[name].widget.attrs["aria-describedby"] = f"id_{name}_one_of"

    def _say_what_empty_means(self):
        """Each select's empty choice in words (EMPTY_CHOICES), never "---------"."""
        for name, label in EMPTY_CHOICES.items():
            field = self.fields[name]
            if isinstance(field, forms.ModelChoiceField):
                field.empty_label = label
            else:
                field.choices = [("", label), *((v, t) for v, t in field.choices if v != "")]

    def _chosen(self, name):
        """The row chosen in a model choice field, as the field itself reads it (odd: none)."""
        try:
            return self.fields[name].to_python(self[name].value())
        except forms.ValidationError:
            return None

    def _offer(self, field, name, allowed):
        """Lists the rows that may be chosen, and the one chosen if it may not (so it shows
        with the rule's error instead of silently vanishing from the list)."""
        chosen = self._chosen(name)
        if chosen is not None:
            allowed = allowed | allowed.model.objects.filter(pk=chosen.pk)
        offer_only(field, allowed)

    def _offer_vendors(self):
        """Up to VENDOR_LIST_LIMIT vendors are listed; past it only the chosen one, and the
        vendor search adds the one picked."""
        field = self.fields["vendor"]
        allowed = vendors_to_request_from()
        total = allowed.count()
        if total <= VENDOR_LIST_LIMIT:
            self._offer(field, "vendor", allowed)
            return
        field.help_text = (  # before the bound field is made, which copies it
            f"Search vendors above: {total:,} vendors are too many to list here. "
            "Or propose a new one below."
        )
        chosen = self._chosen("vendor")
        offer_only(field, Vendor.objects.filter(pk=chosen.pk) if chosen else Vendor.objects.none())

    def clean_category(self):
        return refused_by(why_a_request_cannot_use, self.cleaned_data["category"])

    def clean_vendor(self):
        return refused_by(why_a_request_cannot_name, self.cleaned_data["vendor"])

    def _conditions(self) -> dict[str, bool]:
        """Whether billing recurs and whether it integrates, as the form has them now."""
        billing = self["billing"].value()
        integrates = self["integrates_with_systems"].value()
        return {
            "recurring": bool(billing) and billing != "one_off",
            "integrates": integrates in (True, "on", "true", "True", "1"),
        }

    def mark_invalid_fields(self) -> None:
        """Screen readers announce a field with an error as invalid, with its message (and the
        note it already has)."""
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = " ".join(
                    filter(None, [f"id_{name}_error", attrs.get("aria-describedby")])
                )

    def unsaved_request(self, formset) -> PurchaseRequest:
        """The request as the form has it now, not saved, with its total cost of ownership from
        the valid line items: what the live "approvers will be" preview routes. Call after
        is_valid(); fields that did not validate are left empty."""
        cleaned = getattr(self, "cleaned_data", {})
        fields = {name: cleaned[name] for name in EDITABLE_FIELDS if name in cleaned}
        draft = PurchaseRequest(**fields)
        period = sum(
            (
                (line.cleaned_data["quantity"] * line.cleaned_data["unit_price"])
                for line in formset.forms
                if line.is_valid()
                and line.cleaned_data.get("quantity") is not None
                and not line.cleaned_data.get("DELETE")
            ),
            Decimal("0"),
        )
        if period:
            draft.total_cost = total_cost_of_ownership(period, draft.billing, draft.term_months)
            draft.total_cost_base = ExchangeRate.to_base(draft.total_cost, draft.currency)
        return draft

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
    extra=1,
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
    body = FreeTextField(
        label="Comment",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Write a comment first."},
    )


class AttachmentForm(BootstrapFormMixin, forms.Form):
    attachments = MultipleFileField(label="Add attachments")


class RatingForm(BootstrapFormMixin, forms.Form):
    """Supplier performance, 1 (poor) to 5 (excellent)."""

    delivery = forms.IntegerField(min_value=1, max_value=5)
    quality = forms.IntegerField(min_value=1, max_value=5)
    support = forms.IntegerField(min_value=1, max_value=5)
    comment = FreeTextField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
