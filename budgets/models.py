"""Budgets per department and fiscal year, and the renewal requests of contracts (SPEC §8a)."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from . import fiscal


class OverrunAction(models.TextChoices):
    WARN = "warn", "Warn only"
    OWNER_APPROVAL = "owner_approval", "Add the budget owner's approval"
    BLOCK = "block", "Block submit"


# The strictest wins when a request overruns several budgets (department-wide and category).
STRICTNESS = [OverrunAction.WARN, OverrunAction.OWNER_APPROVAL, OverrunAction.BLOCK]


class Budget(models.Model):
    """What a department (cost centre) may spend in a fiscal year, in the base currency: on
    everything, or on one category when `category` is set. Its owner approves overruns."""

    department = models.ForeignKey(
        "accounts.Department", on_delete=models.PROTECT, related_name="budgets"
    )
    fiscal_year = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(2000), MaxValueValidator(2100)],
        help_text="The calendar year the fiscal year starts in.",
    )
    category = models.ForeignKey(
        "intake.Category",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty: the department's budget for every category.",
    )
    amount = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.00"))],
        help_text="In the base currency.",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_budgets",
        help_text="Approves requests that take the budget over, and hears of overruns.",
    )
    overrun_action = models.CharField(
        "when a request takes it over",
        max_length=20,
        choices=OverrunAction.choices,
        default=OverrunAction.OWNER_APPROVAL,
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-fiscal_year", "department__name", "category__name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["department", "fiscal_year", "category"],
                condition=Q(category__isnull=False),
                name="one_budget_per_department_year_category",
            ),
            models.UniqueConstraint(
                fields=["department", "fiscal_year"],
                condition=Q(category__isnull=True),
                name="one_budget_per_department_year",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="budget_not_negative"),
        ]

    def __str__(self):
        return f"{self.scope_label}, {self.fiscal_year_label}"

    @property
    def fiscal_year_label(self) -> str:
        return fiscal.label(self.fiscal_year)

    @property
    def scope_label(self) -> str:
        name = self.department.name
        return f"{name} · {self.category.name}" if self.category_id else name


class Renewal(models.Model):
    """The draft renewal request of one term of a contract. The unique (contract, term) key
    makes the schedule create it exactly once, however often and however many times at once
    it runs."""

    contract = models.ForeignKey(
        "vendors.Contract", on_delete=models.CASCADE, related_name="renewals"
    )
    term_ends_on = models.DateField(help_text="The end of the contract term this renewal follows.")
    request = models.OneToOneField(
        "intake.PurchaseRequest",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="renewal",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    escalated_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["term_ends_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "term_ends_on"], name="one_renewal_per_contract_term"
            )
        ]

    def __str__(self):
        return f"Renewal of {self.contract} ending {self.term_ends_on}"
