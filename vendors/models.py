from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from core.validation import (
    validate_currency,
    validate_date_in_range,
    validate_one_line,
    validate_text_length,
)

EXPIRY_WARNING_DAYS = 30
MAX_NOTICE_DAYS = 3650  # ten years


class VendorStatus(models.TextChoices):
    PROSPECTIVE = "prospective", "Prospective"
    UNDER_REVIEW = "under_review", "Under review"
    APPROVED = "approved", "Approved"
    APPROVED_WITH_CONDITIONS = "approved_with_conditions", "Approved with conditions"
    REJECTED = "rejected", "Rejected"
    SUSPENDED = "suspended", "Suspended"
    OFFBOARDED = "offboarded", "Offboarded"


APPROVED_STATUSES = (VendorStatus.APPROVED, VendorStatus.APPROVED_WITH_CONDITIONS)


class RiskTier(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class DataAccess(models.TextChoices):
    NONE = "none", "No company data"
    INTERNAL = "internal", "Internal data"
    CONFIDENTIAL = "confidential", "Confidential data"
    PERSONAL = "personal", "Personal data"


NAME_TAKEN = "A vendor with this name already exists."


class Vendor(ConcurrentTransitionMixin, models.Model):
    """A supplier, vetted jointly by IT security and procurement (SPEC §5). The status changes
    only through the transitions below, called from `vendors.services`."""

    name = models.CharField(max_length=200, validators=[validate_one_line])
    legal_name = models.CharField(max_length=200, blank=True, validators=[validate_one_line])
    website = models.URLField(blank=True)
    country = models.CharField(
        max_length=2, blank=True, help_text="ISO 3166-1 alpha-2", validators=[validate_one_line]
    )
    contact_name = models.CharField(max_length=200, blank=True, validators=[validate_one_line])
    contact_email = models.EmailField(blank=True)
    status = FSMField(
        max_length=30,
        choices=VendorStatus.choices,
        default=VendorStatus.PROSPECTIVE,
        protected=True,
    )
    risk_tier = models.CharField(max_length=10, choices=RiskTier.choices, blank=True)
    risk_score = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        editable=False,
        help_text="Weighted questionnaire score, 0 (no risk) to 100.",
    )
    data_access_level = models.CharField(max_length=20, choices=DataAccess.choices, blank=True)
    conditions = models.TextField(
        blank=True,
        validators=[validate_text_length],
        help_text="Conditions of approval; a vendor with conditions is approved with them.",
    )
    esg_rating = models.CharField(
        "ESG rating", max_length=40, blank=True, validators=[validate_one_line]
    )
    esg_source = models.CharField(
        "ESG rating source", max_length=200, blank=True, validators=[validate_one_line]
    )
    carbon_disclosure = models.BooleanField(
        null=True, blank=True, help_text="Does the vendor publish its carbon emissions?"
    )
    sustainability_notes = models.TextField(blank=True, validators=[validate_text_length])
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who put the vendor forward; they never decide its review (four eyes).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="vendor_name_unique_ci",
                violation_error_message=NAME_TAKEN,
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("vendors:vendor-detail", args=[self.pk])

    def validate_constraints(self, exclude=None):
        """The one check of a unique vendor name (any case): `full_clean` runs it for pages,
        API and services alike, and the error names the field."""
        try:
            super().validate_constraints(exclude=exclude)
        except ValidationError as error:
            messages = error.message_dict
            if NAME_TAKEN in messages.get(NON_FIELD_ERRORS, []):
                messages[NON_FIELD_ERRORS].remove(NAME_TAKEN)
                messages.setdefault("name", []).append(NAME_TAKEN)
            raise ValidationError({k: v for k, v in messages.items() if v}) from None

    def webhook_data(self) -> dict:
        """The vendor as outbound webhooks describe it (`vendor.approved`)."""
        return {
            "id": self.pk,
            "name": self.name,
            "legal_name": self.legal_name,
            "website": self.website,
            "country": self.country,
            "status": self.status,
            "risk_tier": self.risk_tier,
            "conditions": self.conditions,
        }

    @property
    def is_approved(self) -> bool:
        return self.status in APPROVED_STATUSES

    @transition(
        field=status,
        source=[VendorStatus.PROSPECTIVE, VendorStatus.REJECTED],
        target=VendorStatus.UNDER_REVIEW,
    )
    def start_review(self):
        pass

    @transition(field=status, source=VendorStatus.UNDER_REVIEW, target=VendorStatus.APPROVED)
    def approve(self):
        pass

    @transition(
        field=status, source=VendorStatus.UNDER_REVIEW, target=VendorStatus.APPROVED_WITH_CONDITIONS
    )
    def approve_with_conditions(self):
        pass

    @transition(field=status, source=VendorStatus.UNDER_REVIEW, target=VendorStatus.REJECTED)
    def reject(self):
        pass

    @transition(field=status, source=list(APPROVED_STATUSES), target=VendorStatus.SUSPENDED)
    def suspend(self):
        pass

    @transition(field=status, source=VendorStatus.SUSPENDED, target=VendorStatus.APPROVED)
    def reinstate(self):
        pass

    @transition(field=status, source="*", target=VendorStatus.OFFBOARDED)
    def offboard(self):
        pass


class SecurityQuestion(models.Model):
    """An admin-defined question of the security questionnaire; heavier weights count more."""

    text = models.CharField(max_length=300, validators=[validate_one_line])
    weight = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1)])
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.text


class AnswerOption(models.Model):
    question = models.ForeignKey(SecurityQuestion, on_delete=models.CASCADE, related_name="options")
    label = models.CharField(max_length=200, validators=[validate_one_line])
    risk = models.PositiveSmallIntegerField(
        validators=[MaxValueValidator(100)], help_text="0 (no risk) to 100 (highest risk)"
    )

    class Meta:
        ordering = ["risk", "id"]

    def __str__(self):
        return self.label


class RiskBand(models.Model):
    """Scores from `min_score` up to the next band's minimum set this tier (configurable)."""

    tier = models.CharField(max_length=10, choices=RiskTier.choices, unique=True)
    min_score = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        unique=True,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )

    class Meta:
        ordering = ["min_score"]

    def __str__(self):
        return f"{self.get_tier_display()} from {self.min_score}"


class VendorAnswer(models.Model):
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(SecurityQuestion, on_delete=models.PROTECT, related_name="+")
    option = models.ForeignKey(AnswerOption, on_delete=models.PROTECT, related_name="+")
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["vendor", "question"], name="one_answer_per_question")
        ]

    def __str__(self):
        return f"{self.vendor}: {self.option}"


class CertificateType(models.TextChoices):
    SOC2_TYPE2 = "soc2_type2", "SOC 2 Type II"
    ISO27001 = "iso27001", "ISO 27001"
    PCI_DSS = "pci_dss", "PCI DSS"
    GDPR_DPA = "gdpr_dpa", "GDPR DPA"
    OTHER = "other", "Other"


def certificate_path(certificate, filename):
    return f"certificates/{certificate.vendor_id}/{filename}"


class Certificate(models.Model):
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="certificates")
    kind = models.CharField("type", max_length=20, choices=CertificateType.choices)
    issuer = models.CharField(max_length=200, validators=[validate_one_line])
    issued_on = models.DateField(validators=[validate_date_in_range])
    expires_on = models.DateField(db_index=True, validators=[validate_date_in_range])
    document = models.FileField(upload_to=certificate_path, max_length=300, blank=True)
    document_name = models.CharField(max_length=255, blank=True)
    document_type = models.CharField(max_length=120, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["expires_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__gt=F("issued_on")), name="certificate_expires_after_issue"
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.vendor})"

    def clean(self):
        if self.issued_on and self.expires_on and self.expires_on <= self.issued_on:
            raise ValidationError({"expires_on": "The expiry date must be after the issue date."})

    @property
    def is_expired(self) -> bool:
        return self.expires_on < timezone.localdate()

    @property
    def is_expiring(self) -> bool:
        """Expires within the next 30 days (SPEC §5: flagged on the vendor page)."""
        today = timezone.localdate()
        return today <= self.expires_on <= today + timedelta(days=EXPIRY_WARNING_DAYS)


class Contract(models.Model):
    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="contracts")
    title = models.CharField(max_length=200, validators=[validate_one_line])
    requests = models.ManyToManyField(
        "intake.PurchaseRequest", blank=True, related_name="contracts"
    )
    starts_on = models.DateField(validators=[validate_date_in_range])
    ends_on = models.DateField(db_index=True, validators=[validate_date_in_range])
    auto_renew = models.BooleanField(default=False)
    notice_days = models.PositiveSmallIntegerField(
        default=30, validators=[MaxValueValidator(MAX_NOTICE_DAYS)]
    )
    annual_value = models.DecimalField(
        max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal("0.00"))]
    )
    currency = models.CharField(max_length=3, default="EUR", validators=[validate_currency])
    seats = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(1_000_000)],
        help_text="Licences or seats it covers, when it is priced per seat: its renewal "
        "request lists them as a line item.",
    )
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["ends_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gt=F("starts_on")), name="contract_ends_after_start"
            )
        ]

    def __str__(self):
        return f"{self.title} ({self.vendor})"

    def clean(self):
        if self.starts_on and self.ends_on and self.ends_on <= self.starts_on:
            raise ValidationError({"ends_on": "The contract must end after it starts."})

    @property
    def is_active(self) -> bool:
        return self.starts_on <= timezone.localdate() <= self.ends_on

    @property
    def notice_date(self):
        """The last day to give notice before the contract renews or ends."""
        return self.ends_on - timedelta(days=self.notice_days)

    @property
    def notice_passed(self) -> bool:
        """The last day to give notice is behind us: the contract renews or ends as it is."""
        return self.notice_date < timezone.localdate()


SCORE = [MinValueValidator(1), MaxValueValidator(5)]


class VendorRating(models.Model):
    """After a request is closed, the requester and IT rate the vendor (SPEC §5)."""

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="ratings")
    request = models.ForeignKey(
        "intake.PurchaseRequest", on_delete=models.CASCADE, related_name="vendor_ratings"
    )
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    delivery = models.PositiveSmallIntegerField(validators=SCORE)
    quality = models.PositiveSmallIntegerField(validators=SCORE)
    support = models.PositiveSmallIntegerField(validators=SCORE)
    comment = models.TextField(blank=True, validators=[validate_text_length])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["request", "rater"], name="one_rating_per_rater"),
            *(
                models.CheckConstraint(
                    condition=Q(**{f"{field}__gte": 1, f"{field}__lte": 5}),
                    name=f"rating_{field}_1_to_5",
                )
                for field in ("delivery", "quality", "support")
            ),
        ]

    def __str__(self):
        return f"{self.vendor} rated by {self.rater}"

    @property
    def overall(self) -> Decimal:
        """The mean of delivery, quality and support, to one decimal (the vendor page's
        "Overall" is the same mean over all ratings)."""
        mean = Decimal(self.delivery + self.quality + self.support) / 3
        return mean.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    @property
    def stars(self) -> int:
        """Whole stars out of 5 for `overall`, halves rounded up."""
        return int(self.overall.quantize(Decimal("1"), rounding=ROUND_HALF_UP))
