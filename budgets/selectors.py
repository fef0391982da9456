"""Reads of budgets and renewals that pages and API share. The figures of every budget come
from one SQL query, whatever the number of budgets and requests (SPEC §9)."""

import functools
from datetime import timedelta
from decimal import Decimal

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
from intake.models import Billing, PurchaseRequest, State

from . import fiscal, policies
from .models import Budget, Renewal

# Committed: approved and ordered (and, once received, closed). In flight: in review.
COMMITTED_STATES = (State.APPROVED, State.ORDERED, State.CLOSED)
IN_FLIGHT_STATES = (State.IN_REVIEW,)
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


def budget_list(*, fiscal_year=None, department=None) -> QuerySet:
    budgets = _budgets_with_figures(fiscal.start_month()).all()
    if fiscal_year is not None:
        budgets = budgets.filter(fiscal_year=fiscal_year)
    if department is not None:
        budgets = budgets.filter(department=department)
    return budgets


def budgets_visible_to(user, *, fiscal_year=None, department=None) -> QuerySet:
    """The budgets with their figures that `user` may see (policies.budget_sight): every page,
    panel, API and export that lists budgets reads them here."""
    budgets = budget_list(fiscal_year=fiscal_year, department=department)
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


# Renewals


def renewals_visible_to(user) -> QuerySet:
    """Renewals with their contract, vendor and request: procurement, leaders and admins see
    all; a contract owner sees their own."""
    renewals = Renewal.objects.select_related(
        "contract__vendor", "contract__owner", "request__requester"
    ).order_by("contract__ends_on", "id")
    if user.is_staff or roles.has_role(user, roles.PROCUREMENT, *roles.LEADERS):
        return renewals
    return renewals.filter(contract__owner=user)


def notice_deadline(contract):
    return contract.ends_on - timedelta(days=contract.notice_days)


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
    return notice_deadline(renewal.contract) < today and not decided
