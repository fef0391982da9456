"""Reads of budgets and renewals that pages and API share. The figures of every budget come
from one SQL query, whatever the number of budgets and requests (SPEC §9)."""

import functools
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import (
    Case,
    DecimalField,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, ExtractMonth, ExtractYear, Greatest, Least, Round
from django.utils import timezone

from accounts import roles
from core import formats
from intake.models import Billing, PurchaseRequest, State
from intake.selectors import requests_visible_to

from . import fiscal, policies
from .models import Budget, Renewal

# Committed: approved and ordered (and, once received, closed). In flight: in review.
COMMITTED_STATES = (State.APPROVED, State.ORDERED, State.CLOSED)
IN_FLIGHT_STATES = (State.IN_REVIEW,)
# Spent: received (closed), a part of committed.
SPENT_STATES = (State.CLOSED,)
MONEY = DecimalField(max_digits=14, decimal_places=2)
ZERO = Value(Decimal("0.00"), output_field=MONEY)


class ExactDivide(Func):
    """`a / b` as a decimal: SQLite would divide two integers as integers."""

    arg_joiner = " / "
    template = "(%(expressions)s)"
    output_field = MONEY

    def as_sqlite(self, compiler, connection, **extra_context):
        numerator, denominator = self.get_source_expressions()
        sql_n, params_n = compiler.compile(numerator)
        sql_d, params_d = compiler.compile(denominator)
        return f"(CAST({sql_n} AS REAL) / {sql_d})", (*params_n, *params_d)


def _int(expression):
    return ExpressionWrapper(expression, output_field=IntegerField())


def share_expression(fiscal_year):
    """`fiscal.share_in_year` in SQL, for a PurchaseRequest queryset: the part of a request's
    total (base currency) billed in `fiscal_year` (an int or an OuterRef)."""
    starts = _int(ExtractYear("needed_by") * 12 + ExtractMonth("needed_by") - 1)
    first = _int(fiscal_year * 12 + Value(fiscal.start_month() - 1))
    last = _int(first + 11)
    term = _int(Coalesce(F("term_months"), Value(1)))
    years = _int((term + 11) / 12)  # integer division: one bill per started year
    months_inside = _int(
        Greatest(Value(0), Least(starts + term, first + 12) - Greatest(starts, first))
    )
    total = F("total_cost_base")
    return Round(
        Case(
            When(
                Q(billing=Billing.MONTHLY),
                then=ExactDivide(total * months_inside, term),
            ),
            When(
                Q(billing=Billing.ANNUAL)
                & Q(bill_start_month__lte=last)
                & Q(last_bill_month__gte=first),
                then=ExactDivide(total, years),
            ),
            When(
                Q(billing=Billing.ONE_OFF)
                & Q(bill_start_month__gte=first)
                & Q(bill_start_month__lte=last),
                then=total,
            ),
            default=ZERO,
            output_field=MONEY,
        ),
        2,
        output_field=MONEY,
    ), {"bill_start_month": starts, "last_bill_month": _int(starts + (years - 1) * 12)}


def _charged(requests: QuerySet, fiscal_year) -> QuerySet:
    """Requests with the share of their cost in `fiscal_year` annotated as `share`."""
    share, helpers = share_expression(fiscal_year)
    return (
        requests.filter(total_cost_base__isnull=False, needed_by__isnull=False)
        .annotate(**helpers)
        .annotate(share=share)
    )


def _sum_for(states, *, by_category: bool, exclude_request=None):
    requests = PurchaseRequest.objects.filter(department=OuterRef("department"), state__in=states)
    if by_category:
        requests = requests.filter(category=OuterRef("category"))
    if exclude_request is not None:
        requests = requests.exclude(pk=exclude_request)
    total = (
        _charged(requests, OuterRef("fiscal_year"))
        .order_by()
        .values("department")
        .annotate(total=Sum("share"))
        .values("total")
    )
    return Coalesce(Subquery(total, output_field=MONEY), ZERO, output_field=MONEY)


def _figure(states, exclude_request=None):
    return Case(
        When(
            category__isnull=True,
            then=_sum_for(states, by_category=False, exclude_request=exclude_request),
        ),
        default=_sum_for(states, by_category=True, exclude_request=exclude_request),
        output_field=MONEY,
    )


def with_figures(budgets: QuerySet, *, exclude_request=None) -> QuerySet:
    """Budgets annotated with `committed`, `in_flight` and `available` (budget − committed −
    in flight), in the base currency, in the same query. `exclude_request` leaves one request
    out (the one being checked against the budget)."""
    return budgets.annotate(
        committed=_figure(COMMITTED_STATES, exclude_request),
        in_flight=_figure(IN_FLIGHT_STATES, exclude_request),
    ).annotate(available=ExpressionWrapper(F("amount") - F("committed") - F("in_flight"), MONEY))


@functools.lru_cache(maxsize=12)
def _budgets_with_figures(start_month: int) -> QuerySet:
    """Every budget with its figures, built once per process (and fiscal start month, which
    the SQL of the shares holds): resolving the four subqueries' expressions takes ~50 ms of
    Python, more than running the query; each caller filters a clone."""
    return with_figures(Budget.objects.select_related("department", "category", "owner"))


@functools.lru_cache(maxsize=12)
def _budgets_with_spending(start_month: int) -> QuerySet:
    """`_budgets_with_figures` and `spent` (see `SPENT_STATES`), for the Budgets page."""
    return _budgets_with_figures(start_month).annotate(spent=_figure(SPENT_STATES))


def budget_list(*, fiscal_year=None, department=None, spent=False) -> QuerySet:
    """Budgets with their figures; with `spent`, also what of committed was received."""
    base = _budgets_with_spending if spent else _budgets_with_figures
    budgets = base(fiscal.start_month()).all()
    if fiscal_year is not None:
        budgets = budgets.filter(fiscal_year=fiscal_year)
    if department is not None:
        budgets = budgets.filter(department=department)
    return budgets


def budgets_visible_to(user, *, fiscal_year=None, department=None, spent=False) -> QuerySet:
    """The budgets with their figures that `user` may see (policies.budget_sight): every page,
    panel, API and export that lists budgets reads them here."""
    budgets = budget_list(fiscal_year=fiscal_year, department=department, spent=spent)
    sight = policies.budget_sight(user)
    if sight.every:
        return budgets
    return budgets.filter(department_id__in=sight.department_ids)


def applicable_budgets(department_id, category_id, fiscal_years) -> QuerySet:
    """The budgets a request charged to this department and category counts against: the
    department's own and the one of its category, in each fiscal year it is billed in."""
    return Budget.objects.filter(
        Q(category__isnull=True) | Q(category_id=category_id),
        department_id=department_id,
        fiscal_year__in=fiscal_years,
    ).select_related("department", "category", "owner")


def current_fiscal_year() -> int:
    return fiscal.fiscal_year_of(timezone.localdate())


# The Budgets page

# Used from this share of a budget on, it is "nearly used up".
NEARLY_USED = Decimal("0.9")
# A request in review or approved, not yet ordered, can still be stopped or cut: these are the
# overruns someone can act on.
OVERRUN_STATES = (State.IN_REVIEW, State.APPROVED)
OVERRUNS_LISTED = 50


def used_of(budget) -> Decimal:
    """What is taken of a budget: committed and in flight (the amount less what is available)."""
    return budget.committed + budget.in_flight


def budget_level(amount: Decimal, available: Decimal) -> str:
    """ "over" (below zero available), "near" (`NEARLY_USED` of it or more used) or "ok"."""
    if available < 0:
        return "over"
    if amount > 0 and amount - available >= amount * NEARLY_USED:
        return "near"
    return "ok"


def budget_state(amount: Decimal, available: Decimal) -> str:
    """A budget's state in plain words: "On track", "Nearly used up: 800.00 EUR left",
    "Over by 1,042.00 EUR" (see `budget_level`)."""
    base = settings.TANDEM_BASE_CURRENCY
    level = budget_level(amount, available)
    if level == "over":
        return f"Over by {formats.money(-available, base)}"
    if level == "near":
        return f"Nearly used up: {formats.money(available, base)} left"
    return "On track"


def percent_used(amount: Decimal, used: Decimal) -> int | None:
    """How much of `amount` is used, in whole percent (None when nothing was allocated)."""
    if amount <= 0:
        return None
    return int((used * 100 / amount).to_integral_value())


@dataclass
class DepartmentBudgets:
    """One department's budgets of a fiscal year and its burn-down: its department-wide budget
    when it has one (its category budgets count the same requests again, so they are not
    added to it), else the sum of its category budgets."""

    department: object
    budgets: list = field(default_factory=list)

    @functools.cached_property
    def counted(self) -> list:
        whole = [budget for budget in self.budgets if budget.category_id is None]
        return whole or self.budgets

    def _sum(self, name) -> Decimal:
        return sum((getattr(budget, name) for budget in self.counted), Decimal("0.00"))

    @property
    def allocated(self) -> Decimal:
        return self._sum("amount")

    @property
    def spent(self) -> Decimal:
        return self._sum("spent")

    @property
    def used(self) -> Decimal:
        return self._sum("committed") + self._sum("in_flight")

    @property
    def available(self) -> Decimal:
        return self._sum("available")

    @property
    def level(self) -> str:
        return budget_level(self.allocated, self.available)

    @property
    def percent_used(self) -> int | None:
        return percent_used(self.allocated, self.used)

    @property
    def meter_value(self) -> int:
        """`percent_used` as a meter shows it: full at 100 and beyond."""
        return min(self.percent_used or 0, 100)

    @property
    def summed(self) -> bool:
        """Whether the burn-down adds up category budgets (no department-wide budget)."""
        return len(self.counted) > 1

    @property
    def state(self) -> str:
        return budget_state(self.allocated, self.available)


def by_department(budgets) -> list[DepartmentBudgets]:
    """Budgets grouped by department, in the order given (by department name), each
    department's own budget first, then its categories' by name; each budget given
    `used`, `percent_used`, `level` and `state` (see `budget_state`)."""
    departments: dict[int, DepartmentBudgets] = {}
    for budget in budgets:
        budget.used = used_of(budget)
        budget.percent_used = percent_used(budget.amount, budget.used)
        budget.level = budget_level(budget.amount, budget.available)
        budget.state = budget_state(budget.amount, budget.available)
        group = departments.setdefault(
            budget.department_id, DepartmentBudgets(department=budget.department)
        )
        group.budgets.append(budget)
    for group in departments.values():
        group.budgets.sort(
            key=lambda b: (b.category_id is not None, b.category_id and b.category.name)
        )
    return list(departments.values())


def fiscal_years_of_budgets(user) -> list[int]:
    """The fiscal years in which `user` sees a budget, latest first."""
    return list(
        budgets_visible_to(user)
        .order_by("-fiscal_year")
        .values_list("fiscal_year", flat=True)
        .distinct()
    )


def requests_over_budget(user, budgets, fiscal_year) -> tuple[list[PurchaseRequest], bool]:
    """The requests that take one of `budgets` (those of `fiscal_year`, with their figures) below
    zero available, that `user` may open: in review or approved, charged to the budget's
    department (and category, for a category's budget), with a part of their cost in its
    fiscal year. Each request's `over_budgets` are those budgets; its `share`, the part of its
    cost in that year. The largest first, at most `OVERRUNS_LISTED`; the flag says whether
    more were left out. One query, whatever the number of budgets and requests."""
    over = [budget for budget in budgets if budget.available < 0]
    if not over:
        return [], False
    charged_to = Q(department_id__in={b.department_id for b in over if b.category_id is None})
    for budget in over:
        if budget.category_id is not None:
            charged_to |= Q(department_id=budget.department_id, category_id=budget.category_id)
    requests = (
        _charged(
            requests_visible_to(user).filter(charged_to, state__in=OVERRUN_STATES),
            fiscal_year,
        )
        .filter(share__gt=0)
        .order_by("-share", "number")[: OVERRUNS_LISTED + 1]
    )
    rows = list(requests)
    for row in rows:
        row.over_budgets = [
            budget
            for budget in over
            if budget.department_id == row.department_id
            and budget.category_id in (None, row.category_id)
        ]
    return rows[:OVERRUNS_LISTED], len(rows) > OVERRUNS_LISTED


# Renewals


def sees_every_renewal(user) -> bool:
    """Procurement, the leaders and admins see every renewal (the renewals page, its API and
    the menu's link); anyone else only those of the contracts they own (`renewals_visible_to`).
    The one rule of who sees renewals: `policies.can_view_renewals` asks it."""
    return roles.is_admin(user) or roles.has_role(user, *roles.PROCUREMENT_SIDE, *roles.LEADERS)


def renewals_visible_to(user) -> QuerySet:
    """Renewals with their contract, vendor and request, as `sees_every_renewal` says: all, or
    those of the contracts the user owns."""
    renewals = Renewal.objects.select_related(
        "contract__vendor", "contract__owner", "request__requester"
    ).order_by("contract__ends_on", "id")
    if sees_every_renewal(user):
        return renewals
    return renewals.filter(contract__owner=user)


DECIDED = (State.APPROVED, State.ORDERED, State.CLOSED, State.REJECTED, State.WITHDRAWN)


def renewal_status(renewal, today=None) -> str:
    """The renewal's request in plain words, and whether its deadline passed undecided."""
    today = today or timezone.localdate()
    purchase_request = renewal.request
    if purchase_request is None:
        text = "No renewal request (it was removed)"
    else:
        text = {
            State.DRAFT: f"Draft, waiting for {purchase_request.requester} to submit it",
            State.IN_REVIEW: "In review by IT and procurement",
            State.CHANGES_REQUESTED: f"Sent back to {purchase_request.requester} for changes",
            State.APPROVED: "Approved: renew",
            State.ORDERED: "Approved and ordered",
            State.CLOSED: "Renewed",
            State.REJECTED: "Rejected: do not renew",
            State.WITHDRAWN: "Withdrawn",
        }[purchase_request.state]
    return text


def deadline_missed(renewal, today=None) -> bool:
    """The notice deadline passed and nobody decided the renewal."""
    today = today or timezone.localdate()
    decided = renewal.request is not None and renewal.request.state in DECIDED
    return renewal.contract.notice_date < today and not decided
