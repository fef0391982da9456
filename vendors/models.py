from django.db import models
from django.db.models.functions import Lower
from django_fsm import ConcurrentTransitionMixin, FSMField


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


class Vendor(ConcurrentTransitionMixin, models.Model):
    """A supplier. Its vetting (status transitions, questionnaire, certificates) belongs to the
    vendor-management work; requests name a vendor or propose a new one."""

    name = models.CharField(max_length=200)
    legal_name = models.CharField(max_length=200, blank=True)
    website = models.URLField(blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2")
    contact_name = models.CharField(max_length=200, blank=True)
    contact_email = models.EmailField(blank=True)
    status = FSMField(
        max_length=30,
        choices=VendorStatus.choices,
        default=VendorStatus.PROSPECTIVE,
        protected=True,
    )
    risk_tier = models.CharField(max_length=10, choices=RiskTier.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="vendor_name_unique_ci"),
        ]

    def __str__(self):
        return self.name

    @property
    def is_approved(self) -> bool:
        return self.status in APPROVED_STATUSES
