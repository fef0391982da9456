"""The backtest of a rule change (issue #32): every request submitted in a window (the last
twelve months by default) is routed again under the rules the draft is based on and under the
draft, from the same facts, and what differs is counted the way an admin weighs a change: how
many requests route differently (by category, department and amount band), which reviewer
groups gain or lose steps and how much work a week that is, which requests would now be
approved at once or need more sign-offs, and the affected requests with both routes.

Facts are read in chunks of CHUNK requests, one query each (`routing.FACT_COLUMNS`), and
`routing.plan` takes the two rule sets explicitly: nothing is written but the progress.
Budget conditions are left out of the replay (a budget's state on the day is not kept), on
both sides alike, so they never show as a difference."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from core import formats
from intake.models import PurchaseRequest

from . import routing, rulesets

WINDOW_DAYS = 365
CHUNK = 2000
# The bands an amount falls in, in the base currency: (lower bound, upper bound or None).
BANDS = [(0, 1_000), (1_000, 10_000), (10_000, 25_000), (25_000, 50_000), (50_000, 100_000),
         (100_000, None)]  # fmt: skip
AFFECTED_SHOWN = 200


def band_of(total: Decimal | None) -> str:
    base = settings.TANDEM_BASE_CURRENCY
    if total is None:
        return "No amount"
    for low, high in BANDS:
        if high is None or total < high:
            if high is None:
                return f"From {formats.money(Decimal(low), base)}"
            return f"{formats.money(Decimal(low), base)} to {formats.money(Decimal(high), base)}"
    return "No amount"  # pragma: no cover - the last band has no upper bound


@dataclass(frozen=True)
class Route:
    """A routing as compared: its steps (stage, side, reviewer), or the rule that approves at
    once."""

    steps: tuple = ()
    auto_approved_by: str = ""

    @classmethod
    def of(cls, plan: routing.RoutingPlan) -> "Route":
        if plan.auto_approved_by is not None:
            return cls(auto_approved_by=plan.auto_approved_by.name)
        vendor = tuple((0, s.side_label, s.reviewer_label) for s in plan.vendor_steps)
        steps = tuple((s.stage, s.side_label, s.reviewer_label) for s in plan.steps)
        return cls(steps=vendor + steps)

    @property
    def reviewers(self) -> Counter:
        return Counter(reviewer for _, _, reviewer in self.steps)

    def words(self) -> list[str]:
        if self.auto_approved_by:
            return [f"Approved at once by “{self.auto_approved_by}”"]
        return [
            f"{'Vendor review' if stage == 0 else f'Stage {stage}'}: {reviewer} ({side})"
            for stage, side, reviewer in self.steps
        ]


@dataclass
class Tally:
    """What the replay has counted so far."""

    replayed: int = 0
    changed: int = 0
    by_category: dict = field(default_factory=dict)
    by_department: dict = field(default_factory=dict)
    by_band: dict = field(default_factory=dict)
    added: Counter = field(default_factory=Counter)
    removed: Counter = field(default_factory=Counter)
    now_auto_approved: int = 0
    no_longer_auto_approved: int = 0
    more_sign_offs: int = 0
    fewer_sign_offs: int = 0
    affected: list = field(default_factory=list)

    def count(self, row: dict, before: Route, after: Route) -> None:
        self.replayed += 1
        changed = before != after
        for table, key in (
            (self.by_category, row["category__name"] or "No category"),
            (self.by_department, row["department__name"] or "No department"),
            (self.by_band, band_of(row["total_cost_base"])),
        ):
            counts = table.setdefault(key, [0, 0])
            counts[1] += 1
            counts[0] += changed
        if not changed:
            return
        self.changed += 1
        self.added.update(after.reviewers - before.reviewers)
        self.removed.update(before.reviewers - after.reviewers)
        if after.auto_approved_by and not before.auto_approved_by:
            self.now_auto_approved += 1
        elif before.auto_approved_by and not after.auto_approved_by:
            self.no_longer_auto_approved += 1
        elif len(after.steps) > len(before.steps):
            self.more_sign_offs += 1
        elif len(after.steps) < len(before.steps):
            self.fewer_sign_offs += 1
        if len(self.affected) < AFFECTED_SHOWN:
            self.affected.append(
                {
                    "id": row["pk"],
                    "number": row["number"],
                    "title": row["title"],
                    "total": formats.money(row["total_cost_base"], settings.TANDEM_BASE_CURRENCY),
                    "before": before.words(),
                    "after": after.words(),
                }
            )

    def result(self, *, start: datetime, end: datetime, base_number: int) -> dict:
        weeks = max((end - start).days / 7, 1)
        groups = sorted(set(self.added) | set(self.removed))
        return {
            "from": start.isoformat(),
            "until": end.isoformat(),
            "based_on": base_number,
            "replayed": self.replayed,
            "changed": self.changed,
            "now_auto_approved": self.now_auto_approved,
            "no_longer_auto_approved": self.no_longer_auto_approved,
            "more_sign_offs": self.more_sign_offs,
            "fewer_sign_offs": self.fewer_sign_offs,
            "groups": [
                {
                    "group": group,
                    "added": self.added[group],
                    "removed": self.removed[group],
                    "per_week": round((self.added[group] - self.removed[group]) / weeks, 1),
                }
                for group in groups
            ],
            "by_category": _table(self.by_category),
            "by_department": _table(self.by_department),
            "by_band": [
                {"name": name, "changed": changed, "total": total}
                for name, (changed, total) in self.by_band.items()
                if changed
            ],
            "affected": self.affected,
            "affected_not_shown": max(self.changed - len(self.affected), 0),
        }


def _table(counts: dict) -> list[dict]:
    """The rows with a change, most changed first."""
    rows = [
        {"name": name, "changed": changed, "total": total}
        for name, (changed, total) in counts.items()
        if changed
    ]
    return sorted(rows, key=lambda r: (-r["changed"], r["name"]))


def window(now: datetime | None = None, days: int = WINDOW_DAYS) -> tuple[datetime, datetime]:
    end = now or timezone.now()
    return end - timedelta(days=days), end


def rows_in(start: datetime, end: datetime):
    """The facts of every request submitted in the window, in chunks of CHUNK rows: one query
    per chunk, by primary key (keyset), whatever the number of requests."""
    requests = PurchaseRequest.objects.filter(submitted_at__gte=start, submitted_at__lt=end)
    columns = ("pk", "number", "title", *routing.FACT_COLUMNS)
    last = 0
    while True:
        chunk = list(requests.filter(pk__gt=last).order_by("pk").values(*columns)[:CHUNK])
        if not chunk:
            return
        yield chunk
        last = chunk[-1]["pk"]


def count_in(start: datetime, end: datetime) -> int:
    return PurchaseRequest.objects.filter(submitted_at__gte=start, submitted_at__lt=end).count()


def replay(
    before_rules: list[dict],
    after_rules: list[dict],
    *,
    start: datetime,
    end: datetime,
    base_number: int = 0,
    progress=None,
) -> dict:
    """Routes every request of the window under both rule sets; `progress(done, total)` is
    told after each chunk. Routing depends only on a request's facts, so equal facts are
    routed once."""
    names = rulesets.Names(before_rules, after_rules)
    before_set = rulesets.build_rules(before_rules, names)
    after_set = rulesets.build_rules(after_rules, names)
    routes: dict = {}
    tally = Tally()
    total = count_in(start, end)
    if progress:
        progress(0, total)
    for chunk in rows_in(start, end):
        for row in chunk:
            facts = routing.facts_from_values(row)
            pair = routes.get(facts)
            if pair is None:
                pair = routes[facts] = (
                    Route.of(routing.plan(facts, before_set)),
                    Route.of(routing.plan(facts, after_set)),
                )
            tally.count(row, *pair)
        if progress:
            progress(tally.replayed, max(total, tally.replayed))
    return tally.result(start=start, end=end, base_number=base_number)
