"""The figures of the leaders' dashboard and of /api/metrics/ (SPEC §6, §7).

Every figure is computed by the database (aggregates, GROUP BY, ordered offsets) in a fixed
number of queries whatever the number of requests and steps; Python only shapes the aggregated
rows (at most one per month and series) for the page, the API and the charts."""

import hashlib
import math
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.postgres.fields import ArrayField
from django.core.cache import cache
from django.db import connections, transaction
from django.db.models import (
    Aggregate,
    Case,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import NullIf, TruncMonth
from django.utils import timezone

from accounts.models import Department
from approvals.models import DECIDED_STATES, ApprovalStep, Side, StepKind, StepState
from audit.models import AuditEvent
from core.data_versions import DataVersion
from intake.models import Category, PurchaseRequest, State
from vendors.models import Certificate, Contract, Vendor

from .policies import Scope

# Requests whose money is spent: approved, then ordered, then closed.
SPENT_STATES = (State.APPROVED, State.ORDERED, State.CLOSED)
SPEND_MONTHS = 12
# Series beyond the largest few are summed into one, so a chart stays readable.
TOP_SERIES = 8
OTHER = "Other"
LOOKAHEAD_DAYS = 90
# Rows of the renewal and certificate lists on the page (the counts cover them all).
LIST_LIMIT = 10
ZERO = Decimal("0.00")

CYCLE_TIME = ExpressionWrapper(F("decided_at") - F("submitted_at"), output_field=DurationField())
STEP_TIME = ExpressionWrapper(F("decided_at") - F("opened_at"), output_field=DurationField())
DECIDED = Q(decided_at__isnull=False)
HAS_CYCLE = Q(decided_at__isnull=False, submitted_at__isnull=False)


class PercentileCont(Aggregate):
    """PostgreSQL's continuous percentiles: `percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP
    (ORDER BY x)`, interpolating between the two nearest values (works on numbers and
    intervals); one sort gives every fraction, as a list in their order."""

    function = "percentile_cont"
    name = "PercentileCont"
    template = "%(function)s(ARRAY[%(fractions)s]) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, fractions, **extra):
        fractions = [float(fraction) for fraction in fractions]
        if not all(0 <= fraction <= 1 for fraction in fractions):
            raise ValueError("A percentile is a fraction between 0 and 1.")
        super().__init__(
            expression,
            fractions=", ".join(map(repr, fractions)),
            output_field=ArrayField(expression.output_field),
            **extra,
        )


# ---- filters --------------------------------------------------------------------------------


def start_of(day: date) -> datetime:
    """Midnight at the start of `day` in the current (the user's) time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


@dataclass(frozen=True)
class FigureFilters:
    """Requests submitted from `date_from` to `date_to` (inclusive, in the user's time zone),
    of one department; None for no bound."""

    date_from: date | None = None
    date_to: date | None = None
    department: Department | None = None

    @property
    def department_id(self) -> int | None:
        return self.department.pk if self.department else None

    def on_requests(self, prefix: str = "") -> Q:
        condition = Q()
        if self.date_from:
            condition &= Q(**{f"{prefix}submitted_at__gte": start_of(self.date_from)})
        if self.date_to:
            condition &= Q(**{f"{prefix}submitted_at__lt": start_of(self.date_to + timedelta(1))})
        if self.department:
            condition &= Q(**{f"{prefix}department": self.department})
        return condition


NO_FILTERS = FigureFilters()


def requests_in_scope(scope: Scope, filters: FigureFilters) -> QuerySet[PurchaseRequest]:
    """The requests the figures count: all of them for leaders and admins; for a reviewer those
    with a step on their side."""
    requests = PurchaseRequest.objects.filter(filters.on_requests()).order_by()
    if not scope.everything:
        side_steps = ApprovalStep.objects.filter(
            request=OuterRef("pk"), side__in=scope.sides, kind=StepKind.REVIEW
        )
        requests = requests.filter(Exists(side_steps))
    return requests


def steps_in_scope(scope: Scope, filters: FigureFilters) -> QuerySet[ApprovalStep]:
    """Steps of the filtered requests (vendor reviews have no department or submission date),
    of the reviewer's side when the scope has one."""
    steps = ApprovalStep.objects.filter(
        filters.on_requests("request__"), request__isnull=False, kind=StepKind.REVIEW
    )
    if not scope.everything:
        steps = steps.filter(side__in=scope.sides)
    return steps.order_by()


def sent_back(scope: Scope) -> Q:
    """Requests sent back for changes at least once: a step that asked for changes (of the
    reviewer's side for a reviewer), or for leaders also the audit trail's transition to
    changes requested (a rejected vendor sends its requests back without a step). Written as
    IN (subquery) rather than EXISTS, so that PostgreSQL reads each subquery once into a hash
    instead of probing it for every request."""
    steps = ApprovalStep.objects.filter(state=StepState.CHANGES_REQUESTED, request__isnull=False)
    if not scope.everything:
        return Q(pk__in=steps.filter(side__in=scope.sides).values("request_id"))
    events = AuditEvent.objects.filter(
        content_type__app_label="intake",
        content_type__model="purchaserequest",
        to_state=State.CHANGES_REQUESTED,
    )
    return Q(pk__in=steps.values("request_id")) | Q(pk__in=events.values("object_id"))


# ---- results --------------------------------------------------------------------------------


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class CycleTime:
    """From submission to the decision, over decided requests."""

    count: int
    median: timedelta | None
    p90: timedelta | None


@dataclass(frozen=True)
class Decisions:
    """Outcomes of the decided requests (approved, ordered and closed count as approved)."""

    decided: int
    approved: int
    rejected: int
    sent_back: int

    @property
    def approval_rate(self) -> float | None:
        return ratio(self.approved, self.decided)

    @property
    def rejection_rate(self) -> float | None:
        return ratio(self.rejected, self.decided)

    @property
    def change_request_rate(self) -> float | None:
        """Decided requests that were sent back for changes at least once on their way."""
        return ratio(self.sent_back, self.decided)


@dataclass(frozen=True)
class OpenValue:
    """Requests in review and their total cost in the base currency."""

    count: int
    total: Decimal


@dataclass(frozen=True)
class SideFigures:
    """One side's steps: time from opening to decision, and SLA breaches."""

    side: str
    label: str
    decided: int
    total_time: timedelta
    opened: int
    breached: int

    @property
    def average_time(self) -> timedelta | None:
        return self.total_time / self.decided if self.decided else None

    @property
    def breach_rate(self) -> float | None:
        return ratio(self.breached, self.opened)


@dataclass(frozen=True)
class SlaBreaches:
    """Steps decided after their due time or still open past it, over the steps opened."""

    opened: int
    breached: int

    @property
    def rate(self) -> float | None:
        return ratio(self.breached, self.opened)


@dataclass(frozen=True)
class SpendSeries:
    label: str
    values: list[Decimal]
    total: Decimal


@dataclass(frozen=True)
class Spend:
    """Spend per month (base currency) of approved, ordered and closed requests by the month
    of their decision, one series per category, vendor or department."""

    months: list[date]
    series: list[SpendSeries]

    @property
    def totals(self) -> list[Decimal]:
        return [sum((s.values[i] for s in self.series), ZERO) for i in range(len(self.months))]

    @property
    def total(self) -> Decimal:
        return sum((s.total for s in self.series), ZERO)

    @property
    def rows(self) -> list[tuple[date, list[Decimal], Decimal]]:
        """Month by month, for the table beside the chart."""
        return [
            (month, [s.values[i] for s in self.series], total)
            for i, (month, total) in enumerate(zip(self.months, self.totals, strict=True))
        ]


@dataclass(frozen=True)
class Figures:
    scope: Scope
    filters: FigureFilters
    generated_at: datetime
    cycle_time: CycleTime
    decisions: Decisions
    open_value: OpenValue
    sides: list[SideFigures]
    sla: SlaBreaches
    spend: dict[str, Spend]
    renewals: list[Contract]
    renewals_count: int
    certificates: list[Certificate]
    certificates_count: int
    lookahead_days: int = LOOKAHEAD_DAYS


# ---- figures --------------------------------------------------------------------------------


def figures(scope: Scope, filters: FigureFilters = NO_FILTERS, *, now=None) -> Figures:
    """Every figure of the dashboard for `scope` (see insights.policies.scope_for), read from
    the cache while nothing they count has changed since they were worked out (PostgreSQL,
    outside a transaction: see `INSIGHTS_DATA`), else computed."""
    now = now or timezone.now()
    alias = PurchaseRequest.objects.db
    connection = connections[alias]
    version = INSIGHTS_DATA.current(connection)
    if version is None:
        return compute_figures(scope, filters, now=now)
    key = _cache_key(connection, version, scope, filters, now)
    cached = cache.get(key)
    if cached is not None and cached.valid_at(now):
        return replace(cached.figures, generated_at=now)
    # One snapshot for the figures and the due time that bounds their reuse.
    with transaction.atomic(using=alias), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cursor.execute(
            "SELECT min(due_at) FROM approvals_approvalstep WHERE state = %s AND due_at >= %s",
            [StepState.OPEN, now],
        )
        next_due = cursor.fetchone()[0]
        result = compute_figures(scope, filters, now=now)
    cache.set(key, CachedFigures(result, next_due), FIGURES_CACHE_SECONDS)
    return result


# The key changes with any write already; the timeout only bounds the memory of keys nobody
# asks for again.
FIGURES_CACHE_SECONDS = 300
FIGURES_CACHE_VERSION = 1


# Moved on by every statement writing a table the figures read (insights/migrations/0002).
INSIGHTS_DATA = DataVersion(
    sequence="insights_data_version",
    lock_key=1,
    tables=(
        "intake_purchaserequest",
        "approvals_approvalstep",
        "audit_auditevent",
        "django_content_type",
        "intake_category",
        "vendors_vendor",
        "accounts_department",
        "vendors_contract",
        "vendors_certificate",
    ),
)


@dataclass(frozen=True)
class CachedFigures:
    """Figures and the first due time of a step open when they were worked out: at that moment
    the step may turn into an SLA breach, so the figures are only reused until then."""

    figures: Figures
    next_due: datetime | None

    def valid_at(self, now: datetime) -> bool:
        computed = self.figures.generated_at
        return computed <= now and (self.next_due is None or now <= self.next_due)


def _cache_key(connection, version: int, scope: Scope, filters: FigureFilters, now) -> str:
    """Besides the data, the figures depend on the scope, the filters, the day and the time
    zone (months, renewals, certificates); the due times are CachedFigures.valid_at's."""
    parts = (
        FIGURES_CACHE_VERSION,
        connection.settings_dict["NAME"],
        version,
        "all" if scope.everything else ",".join(sorted(scope.sides)),
        filters.date_from,
        filters.date_to,
        filters.department_id,
        timezone.localdate(now),
        timezone.get_current_timezone_name(),
    )
    return "insights:figures:" + hashlib.sha256(repr(parts).encode()).hexdigest()


def compute_figures(scope: Scope, filters: FigureFilters = NO_FILTERS, *, now=None) -> Figures:
    """Every figure of the dashboard for `scope`, read from the database."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    requests = requests_in_scope(scope, filters)
    cycle_time, decisions, open_value = request_figures(requests, scope)
    sides = side_figures(steps_in_scope(scope, filters), scope, now=now)
    renewals, certificates = contracts_ending(today), certificates_expiring(today)
    return Figures(
        scope=scope,
        filters=filters,
        generated_at=now,
        cycle_time=cycle_time,
        decisions=decisions,
        open_value=open_value,
        sides=sides,
        sla=SlaBreaches(
            opened=sum(s.opened for s in sides), breached=sum(s.breached for s in sides)
        ),
        spend=spend_per_month(requests, months=spend_months(filters.date_to or today)),
        renewals=list(renewals[:LIST_LIMIT]),
        renewals_count=renewals.count(),
        certificates=list(certificates[:LIST_LIMIT]),
        certificates_count=certificates.count(),
    )


def request_figures(requests: QuerySet[PurchaseRequest], scope: Scope):
    """Cycle time, decision outcomes and the open value in one aggregate query (plus, away from
    PostgreSQL, one ordered-offset query per percentile)."""
    on_postgres = connections[requests.db].vendor == "postgresql"
    percentiles = (
        {"percentiles": PercentileCont(CYCLE_TIME, (0.5, 0.9), filter=HAS_CYCLE)}
        if on_postgres
        else {}
    )
    in_review = Q(state=State.IN_REVIEW)
    totals = requests.aggregate(
        decided=Count("pk", filter=DECIDED),
        approved=Count("pk", filter=DECIDED & Q(state__in=SPENT_STATES)),
        rejected=Count("pk", filter=DECIDED & Q(state=State.REJECTED)),
        sent_back=Count("pk", filter=DECIDED & sent_back(scope)),
        with_cycle=Count("pk", filter=HAS_CYCLE),
        open_count=Count("pk", filter=in_review),
        open_total=Sum("total_cost_base", filter=in_review),
        **percentiles,
    )
    if on_postgres:
        totals["median"], totals["p90"] = totals["percentiles"] or (None, None)
    else:
        totals["median"], totals["p90"] = percentiles_by_offset(
            requests.filter(HAS_CYCLE), CYCLE_TIME, totals["with_cycle"], (0.5, 0.9)
        )
    cycle_time = CycleTime(count=totals["with_cycle"], median=totals["median"], p90=totals["p90"])
    decisions = Decisions(
        decided=totals["decided"],
        approved=totals["approved"],
        rejected=totals["rejected"],
        sent_back=totals["sent_back"],
    )
    open_value = OpenValue(count=totals["open_count"], total=totals["open_total"] or ZERO)
    return cycle_time, decisions, open_value


def percentiles_by_offset(queryset: QuerySet, expression, count: int, fractions) -> list:
    """Continuous percentiles (as PostgreSQL's percentile_cont) where the database has none:
    per fraction, the two values around its position read with ORDER BY ... LIMIT 2 OFFSET n,
    then interpolated. One query per fraction, whatever the number of rows."""
    if not count:
        return [None for _ in fractions]
    ordered = (
        queryset.annotate(measure=expression).order_by("measure").values_list("measure", flat=True)
    )
    results = []
    for fraction in fractions:
        position = fraction * (count - 1)
        low = math.floor(position)
        values = list(ordered[low : low + 2])
        if not values:  # rows vanished between the count and this read
            results.append(None)
        elif len(values) == 1 or position == low:
            results.append(values[0])
        else:
            results.append(values[0] + (values[1] - values[0]) * (position - low))
    return results


def side_figures(steps: QuerySet[ApprovalStep], scope: Scope, *, now) -> list[SideFigures]:
    """Per side, in one grouped query: decided steps and the time from opening to decision;
    opened steps and those past their due time (decided late, or still open after it)."""
    decided = Q(state__in=DECIDED_STATES, opened_at__isnull=False, decided_at__isnull=False)
    opened = Q(opened_at__isnull=False)
    late = Q(decided_at__gt=F("due_at")) | Q(state=StepState.OPEN, due_at__lt=now)
    rows = {
        row["side"]: row
        for row in steps.values("side").annotate(
            decided=Count("pk", filter=decided),
            total_time=Sum(STEP_TIME, filter=decided),
            opened=Count("pk", filter=opened),
            breached=Count("pk", filter=opened & late),
        )
    }
    sides = [s for s in Side if scope.everything or s in scope.sides]
    return [
        SideFigures(
            side=side.value,
            label=side.label,
            decided=rows.get(side, {}).get("decided", 0),
            total_time=rows.get(side, {}).get("total_time") or timedelta(0),
            opened=rows.get(side, {}).get("opened", 0),
            breached=rows.get(side, {}).get("breached", 0),
        )
        for side in sides
    ]


def spend_months(last: date, count: int = SPEND_MONTHS) -> list[date]:
    """The first days of the `count` months ending with the month of `last`."""
    index = last.year * 12 + last.month - 1
    return [date(i // 12, i % 12 + 1, 1) for i in range(index - count + 1, index + 1)]


# Per dimension: the column of the spent requests naming its series by id (joined to the table
# of names), the text naming it where no id does (a request with no vendor counts under the
# vendor name it proposed), that table, and the name of a series.
SPEND_DIMENSIONS = {
    "category": ("category_id", "''", Category._meta.db_table, "COALESCE(n.name, 'Uncategorised')"),
    "vendor": (
        "vendor_id",
        "COALESCE(proposed, '')",
        Vendor._meta.db_table,
        "COALESCE(n.name, NULLIF(s.key_text, ''), 'None')",
    ),
    "department": (
        "department_id",
        "''",
        Department._meta.db_table,
        "COALESCE(n.name, 'No department')",
    ),
}


def spend_per_month(requests: QuerySet[PurchaseRequest], *, months: list[date]):
    """Spend per month by category, vendor and department, by the month (in the user's time
    zone) the request was approved: one statement that reads the spent requests once."""
    after_last = spend_months(months[-1] + timedelta(days=31), 1)[0]
    spent = requests.filter(
        state__in=SPENT_STATES,
        decided_at__gte=start_of(months[0]),
        decided_at__lt=start_of(after_last),
        total_cost_base__isnull=False,
    )
    rows = {dimension: [] for dimension in SPEND_DIMENSIONS}
    for dimension, month, series, total in spend_rows(spent):
        rows[dimension].append({"month": month, "series": series, "total": total})
    return {dimension: _series(rows[dimension], months) for dimension in SPEND_DIMENSIONS}


def spend_rows(spent: QuerySet[PurchaseRequest]) -> list[tuple]:
    """(dimension, month, series, total) rows for every dimension of SPEND_DIMENSIONS: per
    dimension, the TOP_SERIES largest series of the window by name, all the others together as
    one series named NULL, so the rows stay at most (TOP_SERIES + 1) x 12 per dimension however
    many vendors there are. The spent requests (the ORM's query, scope included) are read once
    into a common table. Each dimension first totals them per id over the whole window (`keys`:
    a few thousand vendors, not a few thousand per month), names those totals and keeps the ids
    of its largest series (`chosen`); then it sums the months of the spent requests, each under
    its chosen series or none. Integers group faster than names, and months are summed into at
    most TOP_SERIES + 1 series (standard SQL: PostgreSQL and SQLite)."""
    inner = spent.annotate(
        month=TruncMonth("decided_at"),
        amount=F("total_cost_base"),
        proposed=Case(When(vendor__isnull=True, then=NullIf("proposed_vendor_name", Value("")))),
    )
    inner_sql, params = inner.values(
        "month", "amount", "category_id", "vendor_id", "proposed", "department_id"
    ).query.sql_with_params()

    keys = " UNION ALL ".join(
        f"SELECT '{dimension}' AS dimension, s.key_id, s.key_text, {name} AS series_key, "  # noqa: S608
        f"s.total FROM (SELECT COALESCE({id_column}, 0) AS key_id, {text} AS key_text, "
        f"SUM(amount) AS total FROM spent GROUP BY 1, 2) AS s "
        f"LEFT JOIN {table} AS n ON n.id = s.key_id"
        for dimension, (id_column, text, table, name) in SPEND_DIMENSIONS.items()
    )
    months = " UNION ALL ".join(
        f"SELECT '{dimension}', month, c.series_key, SUM(amount) FROM spent "  # noqa: S608
        f"LEFT JOIN chosen AS c ON c.dimension = '{dimension}' "
        f"AND c.key_id = COALESCE({id_column}, 0) AND c.key_text = {text} "
        f"GROUP BY month, c.series_key"
        for dimension, (id_column, text, _, _) in SPEND_DIMENSIONS.items()
    )
    sql = f"""
        WITH spent AS ({inner_sql}),
        keys AS ({keys}),
        largest AS (
            SELECT dimension, series_key FROM (
                SELECT dimension, series_key, ROW_NUMBER() OVER (
                    PARTITION BY dimension ORDER BY SUM(total) DESC, series_key
                ) AS position
                FROM keys GROUP BY dimension, series_key
            ) AS ranked
            WHERE position <= {TOP_SERIES}
        ),
        chosen AS (
            SELECT k.dimension, k.key_id, k.key_text, k.series_key FROM keys AS k
            JOIN largest AS l ON l.dimension = k.dimension AND l.series_key = k.series_key
        )
        {months}
    """  # noqa: S608 - only our own compiled query and constants; values are parameters
    with connections[spent.db].cursor() as cursor:
        cursor.execute(sql, params)
        return [
            (dimension, _as_month(month), series, _as_amount(total))
            for dimension, month, series, total in cursor.fetchall()
        ]


def _as_month(value) -> date:
    """The first day of a month as the database returns it from a raw statement: a timestamp
    already in the user's time zone (PostgreSQL), or its text (SQLite)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        return (timezone.localtime(value) if timezone.is_aware(value) else value).date()
    return value


def _as_amount(value) -> Decimal:
    """A sum of amounts as a Decimal of cents (SQLite sums decimals as floats)."""
    if not isinstance(value, Decimal):
        value = Decimal(str(value))
    return value.quantize(ZERO)


def _series(rows, months: list[date]) -> Spend:
    """Shapes (month, series, total) rows into series, largest first, then "Other"."""
    column = {month: i for i, month in enumerate(months)}
    cells: dict[str | None, list[Decimal]] = defaultdict(lambda: [ZERO] * len(months))
    for row in rows:
        month = row["month"]
        if isinstance(month, datetime):
            month = (timezone.localtime(month) if timezone.is_aware(month) else month).date()
        cells[row["series"]][column[month]] += row["total"]
    totals = {key: sum(values, ZERO) for key, values in cells.items()}
    named = sorted((key for key in cells if key is not None), key=lambda k: (-totals[k], k))
    series = [SpendSeries(label=key, values=cells[key], total=totals[key]) for key in named]
    if None in cells:
        series.append(SpendSeries(label=OTHER, values=cells[None], total=totals[None]))
    return Spend(months=months, series=series)


def contracts_ending(today: date, days: int = LOOKAHEAD_DAYS) -> QuerySet[Contract]:
    """Contracts that end (renew or lapse) within the next `days` days, soonest first."""
    return (
        Contract.objects.filter(ends_on__gte=today, ends_on__lte=today + timedelta(days=days))
        .select_related("vendor")
        .order_by("ends_on", "id")
    )


def certificates_expiring(today: date, days: int = LOOKAHEAD_DAYS) -> QuerySet[Certificate]:
    """Vendor certificates expiring within the next `days` days, soonest first."""
    return (
        Certificate.objects.filter(
            expires_on__gte=today, expires_on__lte=today + timedelta(days=days)
        )
        .select_related("vendor")
        .order_by("expires_on", "id")
    )


def audit_events(date_from: date | None = None, date_to: date | None = None):
    """The audit trail, optionally from and to a date (inclusive, in the user's time zone)."""
    events = AuditEvent.objects.all()
    if date_from:
        events = events.filter(occurred_at__gte=start_of(date_from))
    if date_to:
        events = events.filter(occurred_at__lt=start_of(date_to + timedelta(days=1)))
    return events
