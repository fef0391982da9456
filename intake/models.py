import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from core.formats import money
from core.validation import (
    validate_currency,
    validate_date_in_range,
    validate_one_line,
    validate_text_length,
)

CENT = Decimal("0.01")
# Bounds of what a requester types (SPEC §9): generous for IT purchases, and small enough that
# a total of 100 line items over the longest term is computed exactly (and then refused by its
# 14 digits when too large) instead of overflowing.
MAX_LINE_ITEMS = 100
MAX_QUANTITY = Decimal("1000000")
MAX_UNIT_PRICE = Decimal("1000000000")
MAX_TERM_MONTHS = 120
# Decimal's default 28 digits would make `quantize` raise InvalidOperation on a huge product;
# with 60 digits any product of stored values is exact, and the 14-digit total field refuses it.
EXACT_PRECISION = 60


class Category(models.Model):
    """Admin-managed purchase categories (Software licence, SaaS subscription, Hardware...)."""

    name = models.CharField(max_length=100, unique=True, validators=[validate_one_line])
    slug = models.SlugField(max_length=100, unique=True)
    is_catalog = models.BooleanField(
        default=False, help_text="Standard catalog items IT may buy within procurement's rules."
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self):
        return self.name


class ExchangeRate(models.Model):
    """How much one unit of `currency` is worth in the base currency (settings
    TANDEM_BASE_CURRENCY), so that routing thresholds and spend compare like with like."""

    currency = models.CharField(max_length=3, unique=True, validators=[validate_currency])
    rate_to_base = models.DecimalField(
        max_digits=16, decimal_places=6, validators=[MinValueValidator(Decimal("0.000001"))]
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["currency"]

    def __str__(self):
        return f"1 {self.currency} = {self.rate_to_base} {settings.TANDEM_BASE_CURRENCY}"

    @classmethod
    def to_base(cls, amount: Decimal | None, currency: str) -> Decimal | None:
        """`amount` in the base currency; None when there is no amount or no rate for it."""
        if amount is None:
            return None
        if currency == settings.TANDEM_BASE_CURRENCY:
            return amount
        rate = cls.objects.filter(currency=currency).values_list("rate_to_base", flat=True).first()
        if rate is None:
            return None
        with localcontext(prec=EXACT_PRECISION):
            return (amount * rate).quantize(CENT, rounding=ROUND_HALF_UP)


class Billing(models.TextChoices):
    ONE_OFF = "one_off", "One-off"
    MONTHLY = "monthly", "Monthly"
    ANNUAL = "annual", "Annual"


class DataClassification(models.TextChoices):
    PUBLIC = "public", "Public"
    INTERNAL = "internal", "Internal"
    CONFIDENTIAL = "confidential", "Confidential"
    RESTRICTED = "restricted", "Restricted"


class State(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    ORDERED = "ordered", "Ordered"
    CLOSED = "closed", "Closed"
    WITHDRAWN = "withdrawn", "Withdrawn"


EDITABLE_STATES = (State.DRAFT, State.CHANGES_REQUESTED)
# Who or what a request waits on, by state (shown in "My requests"); {requester} is a name.
WAITING_ON = {
    State.DRAFT: "{requester}, to submit the draft",
    State.CHANGES_REQUESTED: "{requester}, to make the requested changes and resubmit",
    State.IN_REVIEW: "IT and procurement review",
    State.APPROVED: "Procurement, to place the order",
    State.ORDERED: "{requester}, to confirm receipt",
}


def billing_periods(billing: str, term_months: int | None) -> int | None:
    """How many times the line items are paid over the term: once (one-off), every month of the
    term (monthly), or once per started year of the term (annual: a 30-month term is billed
    three times). None for a recurring billing without a term yet."""
    if billing == Billing.ONE_OFF:
        return 1
    if not term_months:
        return None
    if billing == Billing.MONTHLY:
        return term_months
    return math.ceil(term_months / 12)


def total_cost_of_ownership(
    period_amount: Decimal, billing: str, term_months: int | None
) -> Decimal | None:
    """What the purchase costs over its whole term. `period_amount` is the sum of the line items
    for one billing period, paid `billing_periods` times. A recurring billing without a term has
    no total yet."""
    periods = billing_periods(billing, term_months)
    if periods is None:
        return None
    with localcontext(prec=EXACT_PRECISION):
        return (period_amount * periods).quantize(CENT, rounding=ROUND_HALF_UP)


# A billing period and its plural, as the cost sentence says them.
PERIOD_WORDS = {Billing.MONTHLY: ("month", "months"), Billing.ANNUAL: ("year", "years")}


@dataclass(frozen=True)
class CostBreakdown:
    """What a request asks for, as arithmetic a reader can check: the line items of one billing
    period, times the periods of the term, equal the total cost of ownership."""

    per_period: Decimal
    periods: int | None
    billing: str
    term_months: int | None
    total: Decimal | None
    currency: str

    def __str__(self) -> str:
        """ "1,200.00 EUR a month × 12 months = 14,400.00 EUR"; "5,000.00 EUR, paid once";
        "2,000.00 EUR a year × 3 years (a 30-month term) = 6,000.00 EUR"."""
        each = money(self.per_period, self.currency)
        if self.billing == Billing.ONE_OFF:
            return f"{each}, paid once"
        one, many = PERIOD_WORDS[self.billing]
        if self.periods is None:
            return f"{each} a {one}; no term yet, so no total"
        times = f"{self.periods} {one if self.periods == 1 else many}"
        if self.billing == Billing.ANNUAL and self.term_months != self.periods * 12:
            times += f" (a {self.term_months}-month term)"
        return f"{each} a {one} × {times} = {money(self.total, self.currency)}"


class RequestNumberCounter(models.Model):
    """The last number given out per year. Incremented with a row lock inside the creating
    transaction, so two requests created at the same moment never share a number."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last_value = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.year}: {self.last_value}"


class PurchaseRequest(ConcurrentTransitionMixin, models.Model):
    """An employee's request to buy something IT-related (SPEC §2). The state changes only
    through the transitions below, called from `intake.services`."""

    number = models.CharField(max_length=20, unique=True, editable=False)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="purchase_requests"
    )
    state = FSMField(max_length=30, choices=State.choices, default=State.DRAFT, protected=True)

    # What and why
    title = models.CharField(max_length=200, validators=[validate_one_line])
    description = models.TextField(blank=True, validators=[validate_text_length])
    business_justification = models.TextField(blank=True, validators=[validate_text_length])
    expected_benefit = models.TextField(
        blank=True,
        validators=[validate_text_length],
        help_text="Expected benefit or the strategic objective it serves.",
    )
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.PROTECT, related_name="requests"
    )
    department = models.ForeignKey(
        "accounts.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    needed_by = models.DateField(null=True, blank=True, validators=[validate_date_in_range])

    # Cost
    currency = models.CharField(max_length=3, default="EUR", validators=[validate_currency])
    billing = models.CharField(max_length=10, choices=Billing.choices, default=Billing.ONE_OFF)
    term_months = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_TERM_MONTHS)],
    )
    total_cost = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        editable=False,
        help_text="Total cost of ownership, computed from the line items, billing and term.",
    )
    total_cost_base = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        editable=False,
        help_text="The total cost of ownership in the base currency, for routing and spend.",
    )

    # Vendor: an existing one, or a proposed new one by name and website
    vendor = models.ForeignKey(
        "vendors.Vendor", null=True, blank=True, on_delete=models.PROTECT, related_name="requests"
    )
    proposed_vendor_name = models.CharField(
        max_length=200, blank=True, validators=[validate_one_line]
    )
    proposed_vendor_website = models.URLField(blank=True)

    # Data and security
    data_classification = models.CharField(
        max_length=20, choices=DataClassification.choices, blank=True
    )
    handles_personal_data = models.BooleanField(null=True, blank=True)
    integrates_with_systems = models.BooleanField(default=False)
    integration_details = models.TextField(
        blank=True,
        validators=[validate_text_length],
        help_text="Which company systems it integrates with.",
    )

    # Lifecycle records
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The routing rules' version the latest routing used (SPEC §3: "each request records the
    # version it was routed under"); set by approvals.workflow at submit and resubmit.
    rules_version = models.ForeignKey(
        "approvals.RuleSetVersion",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True, editable=False)
    po_number = models.CharField(
        "PO number", max_length=50, blank=True, editable=False, validators=[validate_one_line]
    )
    ordered_on = models.DateField(
        null=True, blank=True, editable=False, validators=[validate_date_in_range]
    )
    received_on = models.DateField(
        null=True, blank=True, editable=False, validators=[validate_date_in_range]
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="requests_newest_first"),
            models.Index(fields=["requester", "-created_at"]),
            models.Index(fields=["state", "-created_at"]),
        ]

    def __str__(self):
        return f"{self.number} {self.title}"

    def get_absolute_url(self):
        return reverse("intake:request-detail", args=[self.pk])

    def webhook_data(self) -> dict:
        """The request as outbound webhooks describe it to an ERP (`request.*` events)."""
        return {
            "id": self.pk,
            "number": self.number,
            "title": self.title,
            "state": self.state,
            "requester": self.requester.username,
            "requester_email": self.requester.email,
            "department": self.department.cost_centre if self.department_id else None,
            "category": self.category.name if self.category_id else None,
            "vendor_id": self.vendor_id,
            "vendor": self.vendor_label,
            "currency": self.currency,
            "billing": self.billing,
            "term_months": self.term_months,
            "total_cost": None if self.total_cost is None else str(self.total_cost),
            "line_items": [
                {
                    "description": item.description,
                    "quantity": str(item.quantity),
                    "unit_price": str(item.unit_price),
                }
                for item in self.line_items.all()
            ],
            "po_number": self.po_number or None,
            "ordered_on": self.ordered_on.isoformat() if self.ordered_on else None,
            "received_on": self.received_on.isoformat() if self.received_on else None,
            "url": f"{settings.TANDEM_SITE_URL.rstrip('/')}{self.get_absolute_url()}",
        }

    def clean(self):
        if self.vendor_id and self.proposed_vendor_name:
            message = "Choose an existing vendor or propose a new one, not both."
            raise ValidationError({"proposed_vendor_name": message})

    @property
    def is_editable(self) -> bool:
        return self.state in EDITABLE_STATES

    @property
    def waiting_on(self) -> str:
        """Who the request waits on, as people: in review, those who can take its open steps
        ("Ivan Novak or 2 others in IT review") when the selector prefetched them
        (`open_steps`)."""
        open_steps = getattr(self, "open_steps", None)
        if self.state == State.IN_REVIEW and open_steps:
            return "; ".join(s.people_label for s in open_steps)
        text = WAITING_ON.get(self.state, "Nobody: finished")
        return text.format(requester=self.requester) if "{requester}" in text else text

    @property
    def cost_breakdown(self) -> CostBreakdown:
        """The cost as arithmetic (`CostBreakdown`), from the line items (prefetched by the
        request page) and the stored total."""
        per_period = sum((item.amount for item in self.line_items.all()), Decimal("0"))
        return CostBreakdown(
            per_period=per_period,
            periods=billing_periods(self.billing, self.term_months),
            billing=self.billing,
            term_months=self.term_months,
            total=self.total_cost,
            currency=self.currency,
        )

    @property
    def vendor_label(self) -> str:
        if self.vendor_id:
            return self.vendor.name
        return f"{self.proposed_vendor_name} (proposed)" if self.proposed_vendor_name else ""

    # Transitions. Side effects (audit events, routing, notices) live in intake.services.
    @transition(field=state, source=State.DRAFT, target=State.IN_REVIEW)
    def submit(self):
        pass

    @transition(field=state, source=State.CHANGES_REQUESTED, target=State.IN_REVIEW)
    def resubmit(self):
        pass

    @transition(
        field=state,
        source=[State.DRAFT, State.IN_REVIEW, State.CHANGES_REQUESTED],
        target=State.WITHDRAWN,
    )
    def withdraw(self):
        pass

    @transition(field=state, source=State.IN_REVIEW, target=State.APPROVED)
    def approve(self):
        self.decided_at = timezone.now()

    @transition(field=state, source=State.IN_REVIEW, target=State.REJECTED)
    def reject(self):
        self.decided_at = timezone.now()

    @transition(field=state, source=State.IN_REVIEW, target=State.CHANGES_REQUESTED)
    def request_changes(self):
        pass

    @transition(field=state, source=State.APPROVED, target=State.ORDERED)
    def mark_ordered(self, *, po_number: str, ordered_on):
        self.po_number = po_number
        self.ordered_on = ordered_on

    @transition(field=state, source=State.ORDERED, target=State.CLOSED)
    def close(self, *, received_on):
        self.received_on = received_on


class LineItem(models.Model):
    request = models.ForeignKey(
        PurchaseRequest, on_delete=models.CASCADE, related_name="line_items"
    )
    position = models.PositiveSmallIntegerField(default=0)
    description = models.CharField(max_length=300, validators=[validate_one_line])
    quantity = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(CENT), MaxValueValidator(MAX_QUANTITY)],
    )
    unit_price = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        validators=[MinValueValidator(CENT), MaxValueValidator(MAX_UNIT_PRICE)],
    )

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0), name="line_quantity_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(unit_price__gt=0), name="line_unit_price_positive"
            ),
        ]

    def __str__(self):
        return self.description

    @property
    def amount(self) -> Decimal:
        with localcontext(prec=EXACT_PRECISION):
            return (self.quantity * self.unit_price).quantize(CENT, rounding=ROUND_HALF_UP)


def attachment_path(attachment, filename):
    return f"attachments/{attachment.request_id}/{filename}"


class Attachment(models.Model):
    """A quote or specification. Checked by content before it is stored (intake.uploads)."""

    request = models.ForeignKey(
        PurchaseRequest, on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(upload_to=attachment_path, max_length=300)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=120)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self):
        return self.original_name


class Comment(models.Model):
    """A message on a request between requester and reviewers. Like the audit trail, comments are
    never edited; each one also writes an audit event."""

    request = models.ForeignKey(PurchaseRequest, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(validators=[validate_text_length])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.author}: {self.body[:40]}"
