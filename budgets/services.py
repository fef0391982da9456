"""Budget checks and renewals (SPEC §8a): every write they cause, with its locks, audit events
and notifications.

Budgets: a request counts against its department's budget (and its category's, when there is
one) in each fiscal year it is billed in. A check locks the budget rows (after the audit
chain's lock, as every service does) so that two requests submitted or approved at the same
moment are counted one after the other and cannot both take the same last euro."""

import csv
import io
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts import roles
from accounts.models import Department
from audit.services import record_event
from core import formats
from intake import services as intake_services
from intake.models import Billing, Category, PurchaseRequest
from notifications.models import Kind
from notifications.services import money_text, notify
from vendors.models import Contract

from . import fiscal, policies, selectors
from .models import STRICTNESS, Budget, OverrunAction, Renewal

# The rule name of the step an overrun adds; the approval gate recognises it.
OWNER_STEP_NAME = "Budget owner's approval"


@dataclass
class BudgetLine:
    """One budget a request counts against, and what the request does to it."""

    budget: Budget
    takes: Decimal
    available: Decimal  # before this request

    @property
    def remaining(self) -> Decimal:
        return self.available - self.takes

    @property
    def over(self) -> bool:
        return self.takes > 0 and self.takes > self.available

    def describe(self, *, figures: bool = True) -> str:
        """The overrun in words; without `figures` (for a reader who may not see this budget,
        policies.can_see_budget) it names the budget but none of its amounts."""
        label = f"{self.budget.scope_label} {self.budget.fiscal_year_label}"
        if not figures:
            return f"{label}: this request takes it over"
        base = settings.TANDEM_BASE_CURRENCY
        return (
            f"{label}: this request takes "
            f"{formats.money(self.takes, base)} of {formats.money(self.available, base)} "
            "available"
        )

    def effect(self) -> str:
        """What the request does to this budget, for whoever decides it (the decision card):
        "Takes 20,800.00 EUR of 19,758.00 EUR available: over by 1,042.00 EUR"."""
        base = settings.TANDEM_BASE_CURRENCY
        text = f"Takes {formats.money(self.takes, base)} of {formats.money(self.available, base)}"
        if self.over:
            return f"{text} available: over by {formats.money(-self.remaining, base)}"
        return f"{text} available: {formats.money(self.remaining, base)} stays available"


@dataclass
class BudgetCheck:
    lines: list[BudgetLine] = field(default_factory=list)

    @property
    def overruns(self) -> list[BudgetLine]:
        return [line for line in self.lines if line.over]

    @property
    def over_budget(self) -> bool:
        return bool(self.overruns)

    @property
    def strictest(self) -> BudgetLine | None:
        """The overrun whose budget's setting weighs most (block, then owner, then warn)."""
        overruns = self.overruns
        if not overruns:
            return None
        return max(overruns, key=lambda line: STRICTNESS.index(line.budget.overrun_action))

    @property
    def action(self) -> str | None:
        line = self.strictest
        return line.budget.overrun_action if line else None

    def reasons(self, *, figures: bool = True) -> list[str]:
        return [line.describe(figures=figures) for line in self.overruns]


def check_request(purchase_request: PurchaseRequest, *, lock: bool = False, committed_only=False):
    """What the request takes from each budget it counts against, and what the others left
    available (the request itself left out). `lock` locks those budget rows first (inside the
    caller's transaction). `committed_only` compares with what
    is committed only: the approval gate asks whether approving pushes committed past the
    budget."""
    return check_facts(
        department_id=purchase_request.department_id,
        category_id=purchase_request.category_id,
        total_base=purchase_request.total_cost_base,
        billing=purchase_request.billing,
        term_months=purchase_request.term_months,
        starts=purchase_request.needed_by,
        exclude_request=purchase_request.pk,
        lock=lock,
        committed_only=committed_only,
    )


def check_facts(
    *, department_id, category_id, total_base, billing, term_months, starts,
    exclude_request=None, lock=False, committed_only=False,
) -> BudgetCheck:  # fmt: skip
    if department_id is None or starts is None:
        return BudgetCheck()
    years = fiscal.fiscal_years(billing, term_months, starts)
    budgets = selectors.applicable_budgets(department_id, category_id, years)
    if lock:
        ids = list(
            Budget.objects.filter(pk__in=budgets.values("pk"))
            .select_for_update()
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    else:
        ids = list(budgets.values_list("pk", flat=True))
    if not ids:
        # Most requests count against no budget: the figures' query is not even built (its
        # expressions alone take tens of milliseconds to assemble, on every submit).
        return BudgetCheck()
    budgets = budgets.filter(pk__in=ids)
    lines = []
    for budget in selectors.with_figures(budgets, exclude_request=exclude_request):
        takes = fiscal.share_in_year(total_base, billing, term_months, starts, budget.fiscal_year)
        available = budget.amount - budget.committed
        if not committed_only:
            available -= budget.in_flight
        lines.append(BudgetLine(budget=budget, takes=takes, available=available))
    lines.sort(key=lambda line: (line.budget.fiscal_year, line.budget.category_id is not None))
    return BudgetCheck(lines)


def submit_blocked_errors(check: BudgetCheck, purchase_request, *, reader) -> dict[str, list[str]]:
    """Field errors when an overrun blocks submit (the budget's setting), with the budget's
    figures only when `reader` may see them (policies.can_see_budget)."""
    blocking = [
        line for line in check.overruns if line.budget.overrun_action == OverrunAction.BLOCK
    ]
    if not blocking:
        return {}
    figures = policies.can_see_budget(
        reader, purchase_request.department_id, purchase_request=purchase_request
    ).allowed
    return {
        "department": [
            f"Over budget: {line.describe(figures=figures)}. This budget does not allow "
            f"requests beyond it; lower the cost or ask {line.budget.owner} to raise the budget."
            for line in blocking
        ]
    }


def record_overrun(purchase_request, check: BudgetCheck, *, by, moment: str) -> None:
    """Writes the overrun into the request's audit trail and tells each budget owner, in the
    caller's transaction. `moment` is "submit" or "approval"."""
    lines = check.overruns
    record_event(
        purchase_request,
        actor=by,
        kind="over_budget",
        payload={
            "moment": moment,
            "budgets": [
                {
                    "budget": line.budget.pk,
                    "label": str(line.budget),
                    "takes": line.takes,
                    "available": line.available,
                    "action": line.budget.overrun_action,
                }
                for line in lines
            ],
        },
    )
    for line in lines:
        notify(
            [line.budget.owner],
            subject=f"Over budget: {purchase_request.number} {purchase_request.title}",
            lines=[
                f"{line.describe()}.",
                f"Your budget's setting: {line.budget.get_overrun_action_display().lower()}.",
            ],
            action="Open the request",
            url=purchase_request.get_absolute_url(),
            # Once per budget, moment and submission (a resubmit may overrun again).
            dedupe_key=f"over-budget:{purchase_request.pk}:{line.budget.pk}:{moment}:"
            f"{(purchase_request.submitted_at or timezone.now()).timestamp()}",
            amount=money_text(purchase_request.total_cost, purchase_request.currency),
            kind=Kind.ASSIGNED,
        )


def owner_for(check: BudgetCheck, purchase_request):
    """Who approves the overrun: the owner of the strictest overrun budget, or finance when the
    owner filed the request (the requester never decides their own request)."""
    line = check.strictest
    if line is None:
        return None
    owner = line.budget.owner
    if owner.pk == purchase_request.requester_id or not owner.is_active:
        return None
    return owner


def save_budget(budget: Budget, *, by, created: bool) -> Budget:
    """Saves a budget set by hand (admin) with its audit event, the budget row locked like
    every change of a budget's figures."""
    with transaction.atomic():
        if budget.pk:
            Budget.objects.select_for_update().filter(pk=budget.pk).first()
        budget.save()
        record_event(
            budget,
            actor=by,
            kind="budget_created" if created else "budget_changed",
            payload={
                "amount": budget.amount,
                "owner": budget.owner.username,
                "overrun_action": budget.overrun_action,
            },
        )
    return budget


# CSV import of budgets

CSV_COLUMNS = ["cost_centre", "category", "amount", "owner", "overrun_action"]


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)


def import_budgets(file_text: str, *, fiscal_year: int, by) -> ImportResult:
    """Creates or updates the budgets of one fiscal year from CSV rows (`cost_centre`,
    `category` (empty: the whole department), `amount`, `owner` (username), optional
    `overrun_action`). All rows or none: one error anywhere and nothing is imported; every
    error names its line."""
    result = ImportResult()
    reader = csv.DictReader(io.StringIO(file_text))
    missing = {"cost_centre", "amount", "owner"} - set(reader.fieldnames or [])
    if missing:
        result.errors.append(f"Line 1: the header lacks {', '.join(sorted(missing))}.")
        return result
    departments = {d.cost_centre.lower(): d for d in Department.objects.all()}
    categories = {}
    for category in Category.objects.all():
        categories[category.slug.lower()] = categories[category.name.lower()] = category
    users = {u.username.lower(): u for u in get_user_model().objects.filter(is_active=True)}
    actions = {value: value for value in OverrunAction.values} | {
        str(label).lower(): value for value, label in OverrunAction.choices
    }
    rows, seen = [], set()
    for number, row in enumerate(reader, start=2):
        row = {k: (v or "").strip() for k, v in row.items() if k}
        errors = []
        department = departments.get(row.get("cost_centre", "").lower())
        if department is None:
            errors.append(f"no department with cost centre “{row.get('cost_centre', '')}”")
        category = None
        if row.get("category"):
            category = categories.get(row["category"].lower())
            if category is None:
                errors.append(f"no category “{row['category']}”")
        try:
            amount = Decimal(row.get("amount", "").replace(",", ""))
            if not amount.is_finite() or amount < 0 or amount >= Decimal("1e12"):
                raise InvalidOperation
            amount = amount.quantize(Decimal("0.01"))
        except (InvalidOperation, ValueError):
            errors.append(f"the amount “{row.get('amount', '')}” is not a positive number")
            amount = None
        owner = users.get(row.get("owner", "").lower())
        if owner is None:
            errors.append(f"no active user “{row.get('owner', '')}”")
        action = OverrunAction.OWNER_APPROVAL
        if row.get("overrun_action"):
            action = actions.get(row["overrun_action"].lower())
            if action is None:
                errors.append(
                    f"the overrun action “{row['overrun_action']}” is not one of "
                    f"{', '.join(OverrunAction.values)}"
                )
        key = (department and department.pk, category and category.pk)
        if not errors and key in seen:
            errors.append("this department and category appear twice")
        seen.add(key)
        if errors:
            result.errors.append(f"Line {number}: {'; '.join(errors)}.")
        else:
            rows.append((department, category, amount, owner, action))
    if not rows and not result.errors:
        result.errors.append("The file has no budget rows.")
    if result.errors:
        return result
    with transaction.atomic(durable=True):
        for department, category, amount, owner, action in rows:
            budget, created = Budget.objects.select_for_update().update_or_create(
                department=department,
                fiscal_year=fiscal_year,
                category=category,
                defaults={"amount": amount, "owner": owner, "overrun_action": action},
            )
            record_event(
                budget,
                actor=by,
                kind="budget_imported",
                payload={"amount": amount, "owner": owner.username, "created": created},
            )
            if created:
                result.created += 1
            else:
                result.updated += 1
    return result


# Renewals (SPEC §4, §8a)


def term_months(contract: Contract) -> int:
    """The contract's term in whole months (at least one), the renewal's term."""
    months = (contract.ends_on.year - contract.starts_on.year) * 12
    months += contract.ends_on.month - contract.starts_on.month
    if contract.ends_on.day >= contract.starts_on.day:
        months += 1 if contract.ends_on.day > contract.starts_on.day else 0
    return max(1, min(months, 120))


def renewal_line_items(contract: Contract) -> list[dict]:
    """The seats at the contract's annual value, or one line for the whole value."""
    seats = contract.seats or 0
    if seats > 1:
        unit = (contract.annual_value / seats).quantize(Decimal("0.01"))
        if unit * seats == contract.annual_value and unit > 0:
            return [{"description": f"{contract.title}: seats", "quantity": Decimal(seats),
                     "unit_price": unit}]  # fmt: skip
    value = contract.annual_value if contract.annual_value > 0 else Decimal("0.01")
    return [{"description": f"{contract.title}: one year", "quantity": Decimal(1),
             "unit_price": value}]  # fmt: skip


def renewal_due_on(contract: Contract) -> date:
    return contract.notice_date - timedelta(days=settings.TANDEM_RENEWAL_LEAD_DAYS)


def create_renewal(contract: Contract, *, today=None) -> Renewal | None:
    """Drafts the renewal request of the contract's current term, owned by the contract owner,
    who is notified; None when the term has its renewal already. The unique (contract, term)
    key decides: a second run, or a second scheduler at the same moment, inserts nothing."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                renewal = Renewal.objects.create(contract=contract, term_ends_on=contract.ends_on)
        except IntegrityError:
            return None
        previous = contract.requests.order_by("-created_at").first()
        owner = contract.owner
        fields = {
            "title": f"Renewal: {contract.title}"[:200],
            "description": (
                f"Renewal of the contract “{contract.title}” with {contract.vendor.name}, "
                f"which ends on {formats.day(contract.ends_on)}"
                f"{' and renews automatically' if contract.auto_renew else ''}."
            ),
            "business_justification": (
                f"The last day to give notice is {formats.day(contract.notice_date)}"
                ". Decide before then whether to renew, renegotiate or end it."
            ),
            "vendor": contract.vendor,
            "currency": contract.currency,
            "billing": Billing.ANNUAL,
            "term_months": term_months(contract),
            "needed_by": contract.ends_on + timedelta(days=1),
            "category": previous.category if previous else None,
            "department": (previous.department if previous else None) or owner.department,
        }
        if previous:
            fields["data_classification"] = previous.data_classification
            fields["handles_personal_data"] = previous.handles_personal_data
        # A vendor offboarded or a category retired since is left for the owner to choose.
        for name in intake_services.naming_errors(fields):
            fields[name] = None
        purchase_request = intake_services.create_request(
            by=owner, fields=fields, line_items=renewal_line_items(contract)
        )
        renewal.request = purchase_request
        renewal.save(update_fields=["request"])
        contract.requests.add(purchase_request)
        record_event(
            purchase_request,
            actor=owner,
            kind="renewal_drafted",
            payload={"contract": contract.pk, "term_ends_on": contract.ends_on},
        )
        notify(
            [owner],
            subject=f"Renewal to decide: {contract.title} with {contract.vendor.name}",
            lines=[
                f"The contract ends on {formats.day(contract.ends_on)}; the last day to give "
                f"notice is {formats.day(contract.notice_date)}.",
                f"Tandem drafted the renewal request {purchase_request.number} from the "
                "contract. Check it and submit it for review, or withdraw it to let the "
                "contract end.",
            ],
            action="Open the renewal request",
            url=purchase_request.get_absolute_url(),
            dedupe_key=f"renewal:{renewal.pk}:drafted",
            kind=Kind.ASSIGNED,
        )
    return renewal


def create_due_renewals(today=None) -> int:
    """Drafts the renewal of every contract whose notice deadline is at most
    TANDEM_RENEWAL_LEAD_DAYS away and not passed; returns how many were created."""
    today = today or timezone.localdate()
    lead = settings.TANDEM_RENEWAL_LEAD_DAYS
    horizon = today + timedelta(days=lead + 366)
    candidates = (
        Contract.objects.filter(ends_on__gte=today, ends_on__lte=horizon)
        .exclude(renewals__term_ends_on=F("ends_on"))
        .select_related("vendor", "owner__department")
    )
    created = 0
    for contract in candidates:
        deadline = contract.notice_date
        if deadline - timedelta(days=lead) <= today <= deadline:
            created += create_renewal(contract, today=today) is not None
    return created


def escalate_undecided_renewals(today=None) -> int:
    """Renewals still undecided TANDEM_RENEWAL_ESCALATE_DAYS before the notice deadline go to
    the CIO and the CPO, once: the renewal row is claimed before anyone is told."""
    today = today or timezone.localdate()
    days = settings.TANDEM_RENEWAL_ESCALATE_DAYS
    due = (
        Renewal.objects.filter(escalated_at__isnull=True)
        .exclude(request__state__in=selectors.DECIDED)
        .select_related("contract__vendor", "request")
    )
    leaders = list(
        get_user_model().objects.filter(groups__name__in=roles.LEADERS, is_active=True).distinct()
    )
    escalated = 0
    for renewal in due:
        deadline = renewal.contract.notice_date
        if today < deadline - timedelta(days=days):
            continue
        with transaction.atomic():
            claimed = Renewal.objects.filter(pk=renewal.pk, escalated_at__isnull=True).update(
                escalated_at=timezone.now()
            )
            if claimed != 1:
                continue
            contract = renewal.contract
            state = selectors.renewal_status(renewal, today)
            notify(
                leaders,
                subject=f"Renewal undecided: {contract.title} with {contract.vendor.name}",
                lines=[
                    f"The last day to give notice is {formats.day(deadline)} and the renewal is "
                    f"not decided: {state}.",
                    "Without a decision the contract "
                    f"{'renews automatically' if contract.auto_renew else 'ends'} on "
                    f"{formats.day(contract.ends_on)}.",
                ],
                action="Open the renewal",
                url=(renewal.request.get_absolute_url() if renewal.request else "/renewals/"),
                dedupe_key=f"renewal:{renewal.pk}:escalated",
                kind=Kind.ASSIGNED,  # escalated to the leaders
            )
            escalated += 1
    return escalated


def run_renewal_schedule(today=None) -> dict:
    return {
        "created": create_due_renewals(today),
        "escalated": escalate_undecided_renewals(today),
    }
