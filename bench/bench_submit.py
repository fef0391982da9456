"""Submit with routing against 500 active rules: median time per request, against the floor of
the same submit with 5 rules, measured in the same run. Target: under 20 ms, and within 2x of
the 5-rule submit. The bench's rules are removed afterwards and the others restored."""

import statistics
import time
from datetime import timedelta
from decimal import Decimal

from approvals import workflow
from bench import seed

REQUESTS = 150


def _rules(count: int, groups) -> None:
    from approvals.models import ApprovalRule

    sides = [("it", groups["it_reviewers"]), ("procurement", groups["procurement"])]
    ApprovalRule.objects.bulk_create(
        ApprovalRule(
            name=f"bench-rule-{n}",
            min_total=Decimal(1000 * (n % 50)),
            data_classifications=["internal", "confidential"][: 1 + n % 2],
            personal_data=[None, True, False][n % 3],
            reviewer_group=sides[n % 2][1],
            side=sides[n % 2][0],
            stage=1 + n % 3,
        )
        for n in range(count)
    )


def price(n: int) -> Decimal:
    """Spread over the rules' thresholds, so that different requests match different rules."""
    return Decimal(100 + n * 200)


def _median_submit_ms(requester, count: int) -> float:
    from django.utils import timezone

    from intake import services
    from intake.models import Category

    category = Category.objects.get(slug="saas-subscription")
    vendor = requester.purchase_requests.first().vendor
    timings = []
    for n in range(count):
        draft = services.create_request(
            by=requester,
            fields={
                "title": f"Submit bench {n}", "description": "d", "business_justification": "j",
                "category": category, "vendor": vendor, "data_classification": "internal",
                "handles_personal_data": bool(n % 2),
                "needed_by": timezone.localdate() + timedelta(days=30),
            },
            line_items=[{"description": "x", "quantity": Decimal(1), "unit_price": price(n)}],
        )  # fmt: skip
        started = time.perf_counter()
        workflow.submit_request(draft, by=requester)
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def run() -> None:
    seed.setup()
    seed.seed()
    from django.contrib.auth.models import Group

    from accounts.models import User
    from approvals.models import ApprovalRule

    groups = {g.name: g for g in Group.objects.all()}
    requester = User.objects.get(username="bench-user-0")
    figures = {}
    # Submit is a durable transaction of its own: the bench's rules are made, measured and
    # removed around it (the submitted requests stay, numbered like any other).
    was_active = list(
        ApprovalRule.objects.filter(kind="route", active=True).values_list("pk", flat=True)
    )
    ApprovalRule.objects.filter(name__startswith="bench-rule-").delete()
    try:
        ApprovalRule.objects.filter(pk__in=was_active).update(active=False)
        _rules(5, groups)
        figures[5] = _median_submit_ms(requester, REQUESTS)
        ApprovalRule.objects.filter(name__startswith="bench-rule-").delete()
        _rules(500, groups)
        figures[500] = _median_submit_ms(requester, REQUESTS)
    finally:
        ApprovalRule.objects.filter(name__startswith="bench-rule-").delete()
        ApprovalRule.objects.filter(pk__in=was_active).update(active=True)
    ratio = figures[500] / figures[5]
    print(f"median submit over {REQUESTS} requests (create outside the timing, submit inside):")
    print(f"  5 rules (floor):  {figures[5]:7.2f} ms")
    print(f"  500 rules:        {figures[500]:7.2f} ms   ratio {ratio:.2f}x")
    print(f"target under 20 ms: {'PASS' if figures[500] < 20 else 'MISS'} ({figures[500]:.1f} ms)")
    print(f"target within 2x of 5 rules: {'PASS' if ratio <= 2 else 'MISS'} ({ratio:.2f}x)")
