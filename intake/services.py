"""Every write a user can cause on a purchase request: each in one transaction, with its audit
event, after the policy and the state machine have agreed (SPEC §2, §8)."""

import hashlib
from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Sum
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from audit.services import record_event
from core.errors import TransitionNotAllowed
from core.uploads import check_upload
from vendors.selectors import why_a_request_cannot_name

from . import policies
from .models import (
    MAX_LINE_ITEMS,
    Attachment,
    Billing,
    Comment,
    ExchangeRate,
    LineItem,
    PurchaseRequest,
    RequestNumberCounter,
    total_cost_of_ownership,
)
from .selectors import why_a_request_cannot_use

# The fields a requester fills in (forms and API); everything else is set by the lifecycle.
EDITABLE_FIELDS = (
    "title",
    "description",
    "business_justification",
    "expected_benefit",
    "category",
    "department",
    "needed_by",
    "currency",
    "billing",
    "term_months",
    "vendor",
    "proposed_vendor_name",
    "proposed_vendor_website",
    "data_classification",
    "handles_personal_data",
    "integrates_with_systems",
    "integration_details",
)
LINE_ITEM_FIELDS = ("description", "quantity", "unit_price")


def next_request_number(year: int) -> str:
    """`PR-YYYY-NNNNN`, unique even for requests created at the same moment: the counter row is
    incremented in place, which holds its lock until the creating transaction commits."""
    RequestNumberCounter.objects.bulk_create(
        [RequestNumberCounter(year=year)], ignore_conflicts=True
    )
    RequestNumberCounter.objects.filter(year=year).update(last_value=F("last_value") + 1)
    value = RequestNumberCounter.objects.values_list("last_value", flat=True).get(year=year)
    return f"PR-{year}-{value:05d}"


def create_request(*, by, fields: dict, line_items: Iterable[dict] = ()) -> PurchaseRequest:
    """Files a new draft for `by`, charged to their department unless another is named."""
    fields = _only_editable(fields)
    _refuse_what_may_not_be_named(fields)
    with transaction.atomic():
        purchase_request = PurchaseRequest(
            requester=by, number=next_request_number(timezone.now().year), **fields
        )
        if purchase_request.department_id is None:
            purchase_request.department_id = by.department_id
        _save_with_line_items(purchase_request, line_items)
        record_event(
            purchase_request,
            actor=by,
            kind="created",
            to_state=purchase_request.state,
            payload={"number": purchase_request.number, "title": purchase_request.title},
        )
    return purchase_request


def save_draft(
    purchase_request: PurchaseRequest | None,
    *,
    by,
    fields: dict,
    line_items: Iterable[dict],
    attachments=(),
) -> PurchaseRequest:
    """The request form's "Save": a new draft or the changes to one, its line items and its
    new attachments, all or nothing. The outermost transaction of the requester's action
    (durable): the page only calls it."""
    with transaction.atomic(durable=True):
        if purchase_request is None:
            purchase_request = create_request(by=by, fields=fields, line_items=line_items)
        else:
            purchase_request = update_request(
                purchase_request, by=by, fields=fields, line_items=line_items
            )
        add_attachments(purchase_request, by=by, uploaded_files=attachments)
    return purchase_request


def update_request(
    purchase_request: PurchaseRequest,
    *,
    by,
    fields: dict,
    line_items: Iterable[dict] | None = None,
) -> PurchaseRequest:
    """Changes a draft or a request with changes requested; nobody edits a request in review.
    A change that names a category or vendor names one a request may (`naming_errors`)."""
    fields = _only_editable(fields)
    _refuse_what_may_not_be_named(fields)
    with transaction.atomic():
        purchase_request = locked_request(purchase_request)
        policies.can_act_as_requester(by, purchase_request).enforce()
        if not purchase_request.is_editable:
            raise TransitionNotAllowed(
                f"{purchase_request.number} is {purchase_request.get_state_display().lower()}; "
                "only drafts and requests with changes requested can be edited."
            )
        changed = [
            name for name, value in fields.items() if getattr(purchase_request, name) != value
        ]
        for name, value in fields.items():
            setattr(purchase_request, name, value)
        _save_with_line_items(purchase_request, line_items)
        if line_items is not None:
            changed.append("line_items")
        record_event(purchase_request, actor=by, kind="edited", payload={"fields": changed})
    return purchase_request


# What submit requires (submission_errors), so the form marks exactly these as required.
REQUIRED_TO_SUBMIT = {
    "title": "a title",
    "description": "a description",
    "business_justification": "the business justification",
    "category": "a category",
    "department": "the department to charge",
    "needed_by": "the date it is needed by",
    "data_classification": "the data classification",
}
# Also required: an answer on personal data, a vendor (existing or proposed) and a line item;
# the term when billing recurs and the systems when it integrates with some.
ANSWER_REQUIRED_TO_SUBMIT = ("handles_personal_data",)
# One field of each pair is required, either will do: an existing vendor or a proposed one.
ONE_OF_REQUIRED_TO_SUBMIT = (("vendor", "proposed_vendor_name"),)
REQUIRED_WHEN = {"term_months": "recurring", "integration_details": "integrates"}


# What a request names must be something a request may name: each rule lives with what it
# names (a selector) and says why not, in the words the form, the API and submit all show.
NAMING_RULES = {"category": why_a_request_cannot_use, "vendor": why_a_request_cannot_name}


def naming_errors(values: dict) -> dict[str, list[str]]:
    """The refusals, by field, of the categories and vendors among `values` that a request may
    not name: a retired category; a rejected or offboarded vendor (SPEC §5)."""
    errors = {}
    for name, rule in NAMING_RULES.items():
        reason = rule(values[name]) if name in values else None
        if reason:
            errors[name] = [reason]
    return errors


def _refuse_what_may_not_be_named(fields: dict) -> None:
    errors = naming_errors(fields)
    if errors:
        raise ValidationError(errors)


def submission_errors(purchase_request: PurchaseRequest) -> dict[str, list[str]]:
    """What a request lacks before it can be reviewed, by field (SPEC §2: submit validates the
    request completely), and what it may no longer name: a vendor rejected or offboarded, or a
    category retired, since it was saved."""
    errors = naming_errors(
        {"category": purchase_request.category, "vendor": purchase_request.vendor}
    )

    def missing(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    for field, label in REQUIRED_TO_SUBMIT.items():
        value = getattr(purchase_request, f"{field}_id", None) or getattr(purchase_request, field)
        if value in (None, ""):
            missing(field, f"Give {label}.")
    if purchase_request.handles_personal_data is None:
        missing("handles_personal_data", "Say whether it handles personal data.")
    if purchase_request.billing != Billing.ONE_OFF and not purchase_request.term_months:
        missing("term_months", "Give the term in months for recurring billing.")
    if not purchase_request.vendor_id and not purchase_request.proposed_vendor_name:
        missing("vendor", "Choose a vendor or propose a new one.")
    if purchase_request.integrates_with_systems and not purchase_request.integration_details:
        missing("integration_details", "Name the company systems it integrates with.")
    if purchase_request.needed_by and purchase_request.needed_by < timezone.localdate():
        missing("needed_by", "The needed-by date is in the past.")
    if purchase_request.total_cost is not None and purchase_request.total_cost_base is None:
        missing(
            "currency",
            f"There is no exchange rate from {purchase_request.currency} to "
            f"{settings.TANDEM_BASE_CURRENCY} yet; choose another currency or ask an admin.",
        )
    if not purchase_request.line_items.exists():
        missing("line_items", "Add at least one line item.")
    return errors


def add_comment(purchase_request: PurchaseRequest, *, by, body: str) -> Comment:
    body = body.strip()
    if not body:
        raise ValidationError({"body": ["Write a comment first."]})
    policies.can_comment(by, purchase_request).enforce()
    with transaction.atomic():
        comment = Comment(request=purchase_request, author=by, body=body)
        comment.full_clean(exclude=["request", "author"])
        comment.save()
        record_event(
            purchase_request,
            actor=by,
            kind="commented",
            payload={"comment": comment.pk, "body": body},
        )
    return comment


def add_attachments(purchase_request: PurchaseRequest, *, by, uploaded_files) -> list[Attachment]:
    """Stores several files at once: all of them, or none when one is refused (and then every
    refused file says why)."""
    refused = []
    for uploaded in uploaded_files:
        try:
            _checked_upload(uploaded)
        except ValidationError as error:
            refused.extend(error.messages)
    if refused:
        raise ValidationError({"attachments": refused})
    with transaction.atomic():
        return [
            add_attachment(purchase_request, by=by, uploaded_file=uploaded)
            for uploaded in uploaded_files
        ]


def _checked_upload(uploaded_file):
    """The one upload check (size, real content type), its refusal on the attachments field."""
    try:
        return check_upload(uploaded_file)
    except ValidationError as error:
        raise ValidationError({"attachments": error.messages}) from None


def add_attachment(purchase_request: PurchaseRequest, *, by, uploaded_file) -> Attachment:
    """Stores a quote or specification after checking its size and real content type; a request's
    attachments together take at most TANDEM_MAX_ATTACHMENT_BYTES_PER_REQUEST."""
    policies.can_act_as_requester(by, purchase_request).enforce()
    if not purchase_request.is_editable:
        raise TransitionNotAllowed(
            "Attachments can be added while the request is a draft or has changes requested."
        )
    checked = _checked_upload(uploaded_file)
    digest = hashlib.sha256()
    for chunk in uploaded_file.chunks():
        digest.update(chunk)
    uploaded_file.seek(0)
    with transaction.atomic():
        locked_request(purchase_request)  # one upload at a time counts against the total
        stored = purchase_request.attachments.aggregate(total=Sum("size"))["total"] or 0
        limit = settings.TANDEM_MAX_ATTACHMENT_BYTES_PER_REQUEST
        if stored + checked.size > limit:
            raise ValidationError(
                {
                    "attachments": [
                        f"“{checked.name}” ({filesizeformat(checked.size)}) does not fit: the "
                        f"attachments of a request take at most {filesizeformat(limit)} "
                        f"together and {filesizeformat(stored)} are used."
                    ]
                }
            )
        attachment = Attachment.objects.create(
            request=purchase_request,
            file=uploaded_file,
            original_name=checked.name[:255],
            content_type=checked.content_type,
            size=checked.size,
            uploaded_by=by,
        )
        record_event(
            purchase_request,
            actor=by,
            kind="attachment_added",
            # The content's SHA-256 in the hash chain: the evidence packet's verifier compares
            # the stored file's digest with it.
            payload={
                "attachment": attachment.pk,
                "name": attachment.original_name,
                "sha256": digest.hexdigest(),
            },
        )
    return attachment


# Internals


def _only_editable(fields: dict) -> dict:
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable by the requester: {sorted(unknown)}")
    return fields


def locked_request(purchase_request: PurchaseRequest) -> PurchaseRequest:
    """The current row, locked until the transaction ends (one writer at a time), with its
    requester, vendor, category and department (read in the same query, not locked)."""
    return (
        PurchaseRequest.objects.select_for_update(of=("self",))
        .select_related("requester", "vendor", "category", "department")
        .get(pk=purchase_request.pk)
    )


def _save_with_line_items(purchase_request: PurchaseRequest, line_items) -> None:
    """Saves the request and, when given, replaces its line items (at most MAX_LINE_ITEMS); the
    total cost of ownership is always recomputed from the items, never typed, and only from
    values that passed validation (a term of 32,767 months is refused, not multiplied)."""
    if line_items is None:
        items = list(purchase_request.line_items.all()) if purchase_request.pk else []
    else:
        line_items = list(line_items)
        if len(line_items) > MAX_LINE_ITEMS:
            raise ValidationError(
                {"line_items": [f"A request has at most {MAX_LINE_ITEMS} line items."]}
            )
        items = [
            LineItem(position=index, **{name: row[name] for name in LINE_ITEM_FIELDS})
            for index, row in enumerate(line_items)
        ]
        for item in items:
            item.full_clean(exclude=["request"])
    computed = ["total_cost", "total_cost_base"]
    purchase_request.full_clean(exclude=["number", "requester", "state", *computed])
    period_amount = sum((item.amount for item in items), Decimal("0"))
    purchase_request.total_cost = total_cost_of_ownership(
        period_amount, purchase_request.billing, purchase_request.term_months
    )
    purchase_request.total_cost_base = ExchangeRate.to_base(
        purchase_request.total_cost, purchase_request.currency
    )
    purchase_request.clean_fields(
        exclude=[f.name for f in PurchaseRequest._meta.fields if f.name not in computed]
    )
    purchase_request.save()
    if line_items is not None:
        purchase_request.line_items.all().delete()
        for item in items:
            item.request = purchase_request
        LineItem.objects.bulk_create(items)
