"""The backtest of a rule change (issue #32) on the benchmark's requests: every request
submitted in the window routed again under the rules in use and under a draft that raises the
CIO's threshold from 25,000 to 50,000 EUR (approvals.backtest.replay, as the Celery task runs
it). The seed spreads its requests over 700 days; the window here takes them all, so the figure
is for 100,000 requests, more than a year of a large company's. Target: 100,000 requests in
30 s (scaled to the number replayed), printed as a ratio and PASS or MISS.

A smaller run (a shared machine, a first look): `BENCH_BACKTEST_REQUESTS=10000
DATABASE_URL=postgres://postgres@127.0.0.1:5432/<own db> python -m bench backtest`."""

import os
import time
from datetime import timedelta
from decimal import Decimal

from bench import seed

REQUESTS = int(os.environ.get("BENCH_BACKTEST_REQUESTS", "100000"))
TARGET_SECONDS = 30.0  # for 100,000 requests
TARGET_REQUESTS = 100_000


def _draft_rules(rules: list[dict], group_id: int) -> list[dict]:
    """The rules with the CIO's thresholds raised to 50,000."""
    cio = [r for r in rules if r["reviewer_group_id"] == group_id and r["min_total"]]
    return [{**r, "min_total": "50000.00"} if r in cio else r for r in rules]


def run() -> None:
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.utils import timezone

    from approvals import backtest, rule_versions
    from approvals.models import ApprovalRule, Side

    seeded = seed.seed(requests=REQUESTS)
    if seeded.get("seeded"):
        print(f"data set: seeded in {seeded['seconds']:.0f} s")
    cio = Group.objects.get(name="cio")
    ApprovalRule.objects.get_or_create(
        name="Bench: CIO sign-off from 25,000 EUR",
        defaults={"min_total": Decimal("25000"), "reviewer_group": cio, "side": Side.IT,
                  "stage": 2},
    )  # fmt: skip
    base = rule_versions.current_version()
    draft = _draft_rules(base.rules, cio.pk)
    end = timezone.now()
    start = end - timedelta(days=800)  # every seeded request (the seed spreads them over 700)
    queries_before = len(connection.queries)
    started = time.perf_counter()
    result = backtest.replay(base.rules, draft, start=start, end=end, base_number=base.number)
    seconds = time.perf_counter() - started
    replayed = result["replayed"]
    target = TARGET_SECONDS * max(replayed, 1) / TARGET_REQUESTS
    ratio = seconds / target
    rate = replayed / seconds
    print(f"replayed {replayed} requests in {seconds:.2f} s ({rate:,.0f} a second); "
          f"{result['changed']} route differently")  # fmt: skip
    if connection.queries:  # DEBUG only
        print(f"queries: {len(connection.queries) - queries_before}")
    verdict = "PASS" if ratio <= 1 else "MISS"
    print(f"target {TARGET_REQUESTS:,} requests in {TARGET_SECONDS:.0f} s "
          f"(scaled: {target:.2f} s): {verdict} ({ratio:.2f}x)")  # fmt: skip
