"""Submit with routing against 500 active rules: median time per request, against two floors
measured in the same run: the same submit with 5 rules, and the least any submit costs, one
transaction inserting a request's steps and audit events as the submits wrote them (issue 28
item 6: a ratio holds on any machine; 20 ms was met on one 2-core machine, missed on another).
Targets: within 3x of the insert floor and within 2x of the 5-rule submit. The bench's rules
are removed afterwards and the others restored."""

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


def _draft(requester, n: int):
    from django.utils import timezone

    from intake import services
    from intake.models import Category

    return services.create_request(
        by=requester,
        fields={
            "title": f"Submit bench {n}", "description": "d", "business_justification": "j",
            "category": Category.objects.get(slug="saas-subscription"),
            "vendor": requester.purchase_requests.first().vendor,
            "data_classification": "internal", "handles_personal_data": bool(n % 2),
            "needed_by": timezone.localdate() + timedelta(days=30),
        },
        line_items=[{"description": "x", "quantity": Decimal(1), "unit_price": price(n)}],
    )  # fmt: skip


def _median_submit_ms(requester, count: int) -> float:
    timings = []
    for n in range(count):
        draft = _draft(requester, n)
        started = time.perf_counter()
        workflow.submit_request(draft, by=requester)
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


class _RolledBack(Exception):
    pass


def _median_floor_ms(requester, count: int) -> float:
    """One transaction writing what a submit writes, without deciding anything: the steps and
    audit events of a request submitted in this run, copied and rolled back."""
    from django.db import transaction

    from approvals.models import ApprovalStep
    from audit.models import AuditEvent
    from intake.models import PurchaseRequest

    submitted = PurchaseRequest.objects.filter(
        requester=requester, title__startswith="Submit bench"
    ).latest("pk")
    steps = list(ApprovalStep.objects.filter(request=submitted))
    events = list(
        AuditEvent.objects.for_object(submitted).filter(occurred_at__gte=submitted.submitted_at)
    )
    draft = _draft(requester, 0)
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        try:
            with transaction.atomic():
                PurchaseRequest.objects.select_for_update().get(pk=draft.pk)
                for step in steps:
                    step.pk, step.request_id = None, draft.pk
                for event in events:
                    event.pk, event.object_id, event._state.adding = None, draft.pk, True
                    event.sequence, event.prev_hash, event.hash, event.sealed_at = (
                        None,
                        "",
                        "",
                        None,
                    )
                ApprovalStep.objects.bulk_create(steps)
                AuditEvent.objects.bulk_create(events)
                raise _RolledBack
        except _RolledBack:
            pass
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
    floor = _median_floor_ms(requester, REQUESTS)
    ratio = figures[500] / figures[5]
    to_floor = figures[500] / floor
    print(f"median submit over {REQUESTS} requests (create outside the timing, submit inside):")
    print(f"  insert floor:     {floor:7.2f} ms   (its steps and events in one transaction)")
    print(f"  5 rules:          {figures[5]:7.2f} ms")
    print(f"  500 rules:        {figures[500]:7.2f} ms   {ratio:.2f}x 5 rules, "
          f"{to_floor:.2f}x floor")  # fmt: skip
    print(f"target within 3x of the insert floor: {'PASS' if to_floor <= 3 else 'MISS'} "
          f"({to_floor:.2f}x)")  # fmt: skip
    print(f"target within 2x of 5 rules: {'PASS' if ratio <= 2 else 'MISS'} ({ratio:.2f}x)")
