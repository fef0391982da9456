"""After approval the work goes on (issue 13): an approved request is procurement's item "to
order" (queue, due time, reminders, escalation, exactly once), then confirming receipt is the
requester's item. Both ride on approval steps of their own kind and are never decided."""

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.utils import timezone

from approvals import workflow
from approvals.models import ApprovalStep, ProcessSettings, StepAlert, StepKind, StepState
from approvals.policies import decidable_steps
from approvals.reminders import sweep_due_steps
from approvals.selectors import steps_awaiting
from approvals.services import decide_step
from intake.models import State
from notifications import services
from tests.factories import CategoryFactory, PurchaseRequestFactory, UserFactory, VendorFactory

pytestmark = pytest.mark.django_db

START = timezone.now().replace(microsecond=0)


def awaiting_ids(api, user):
    response = api.as_user(user).get("/api/requests/?awaiting=me")
    assert response.status_code == 200
    return [row["id"] for row in response.json()["results"]]


def step_of(purchase_request, group):
    return purchase_request.steps.get(kind=StepKind.REVIEW, group__name=group)


def approve_all(purchase_request, *people):
    for person, group in people:
        decide_step(step_of(purchase_request, group), by=person, decision="approve")
    purchase_request.refresh_from_db()
    return purchase_request


def in_app(user, prefix):
    """What the user sees in the app: their own notices and their group's."""
    return list(
        services.notices_of(user)
        .filter(subject__startswith=prefix)
        .values_list("subject", flat=True)
    )


def test_acceptance_paul_at_stage_one_cora_and_cleo_at_stage_two_then_paul_orders(
    api, client, requester, it_reviewer, procurement, cio, cpo, leadership_rules
):
    """The issue's acceptance, through the API as a new user would drive it."""
    purchase_request = PurchaseRequestFactory(
        requester=requester,
        category=CategoryFactory(),
        vendor=VendorFactory(status="approved"),
        total_cost=Decimal("30000.00"),
        handles_personal_data=True,
    )
    workflow.submit_request(purchase_request, by=requester)
    routed = sorted((s.stage, s.side, s.group.name, s.state) for s in purchase_request.steps.all())
    assert routed == [
        (1, "it", "it_reviewers", "open"),
        (1, "procurement", "procurement", "open"),
        (2, "it", "cio", "waiting"),
        (2, "procurement", "cpo", "waiting"),
    ]
    assert purchase_request.pk in awaiting_ids(api, procurement)
    response = api.as_user(procurement).post(
        f"/api/steps/{step_of(purchase_request, 'procurement').pk}/approve/",
        {"comment": "Terms and DPA are in order."},
    )
    assert response.status_code == 200, response.content
    response = api.as_user(it_reviewer).post(
        f"/api/steps/{step_of(purchase_request, 'it_reviewers').pk}/approve/", {}
    )
    assert response.status_code == 200
    for leader, group in ((cio, "cio"), (cpo, "cpo")):
        assert purchase_request.pk in awaiting_ids(api, leader)
        response = api.as_user(leader).post(
            f"/api/steps/{step_of(purchase_request, group).pk}/approve/", {}
        )
        assert response.status_code == 200, response.content
    purchase_request.refresh_from_db()
    assert purchase_request.state == State.APPROVED

    # Paul finds the approved request in awaiting=me, to order, and was told so.
    assert awaiting_ids(api, procurement) == [purchase_request.pk]
    assert awaiting_ids(api, cio) == []
    assert in_app(procurement, "To order:") == [
        f"To order: {purchase_request.number} {purchase_request.title}"
    ]
    client.force_login(procurement)
    page = client.get("/approvals/").content.decode()
    assert purchase_request.number in page
    assert "To order: record the purchase order" in page

    response = api.as_user(procurement).post(
        f"/api/requests/{purchase_request.pk}/mark-ordered/", {"po_number": "PO-30000"}
    )
    assert response.status_code == 200
    assert response.json()["state"] == State.ORDERED
    assert awaiting_ids(api, procurement) == []

    # Confirming receipt is now Rita's item, and she was told.
    assert awaiting_ids(api, requester) == [purchase_request.pk]
    assert in_app(requester, "Ordered:")
    response = api.as_user(requester).post(f"/api/requests/{purchase_request.pk}/close/", {})
    assert response.status_code == 200
    assert response.json()["state"] == State.CLOSED
    assert awaiting_ids(api, requester) == []
    items = purchase_request.steps.filter(kind__in=[StepKind.ORDER, StepKind.RECEIPT])
    assert sorted((s.kind, s.state, s.decided_by) for s in items) == [
        ("order", "done", procurement),
        ("receipt", "done", requester),
    ]


@pytest.fixture
def approved(requester, it_reviewer, procurement):
    """A request approved at START by Ivan and Paul (the baseline steps)."""
    with time_machine.travel(START, tick=False):
        purchase_request = workflow.submit_request(
            PurchaseRequestFactory(requester=requester), by=requester
        )
        return approve_all(
            purchase_request, (it_reviewer, "it_reviewers"), (procurement, "procurement")
        )


def order_step(purchase_request):
    return purchase_request.steps.get(kind=StepKind.ORDER)


def test_the_order_item_takes_its_due_time_from_the_process_settings(
    requester, it_reviewer, procurement
):
    config = ProcessSettings.current()
    config.order_sla_hours, config.order_escalate_after_hours = 5, 8
    config.save()
    with time_machine.travel(START, tick=False):
        purchase_request = workflow.submit_request(
            PurchaseRequestFactory(requester=requester), by=requester
        )
        approve_all(purchase_request, (it_reviewer, "it_reviewers"), (procurement, "procurement"))
    step = order_step(purchase_request)
    assert (step.state, step.group.name, step.side) == ("open", "procurement", "procurement")
    assert step.due_at == START + timedelta(hours=5)
    assert step.escalate_at == START + timedelta(hours=8)


def test_an_order_item_is_never_decided(api, approved, procurement, cpo):
    step = order_step(approved)
    with pytest.raises(PermissionDenied, match="not a decision"):
        decide_step(step, by=procurement, decision="approve")
    response = api.as_user(procurement).post(f"/api/steps/{step.pk}/approve/", {})
    assert response.status_code == 403
    assert "not a decision" in response.json()["detail"]
    assert not decidable_steps(procurement).filter(kind=StepKind.ORDER).exists()
    step.refresh_from_db()
    assert step.state == StepState.OPEN


def test_the_order_item_counts_for_nobody_in_four_eyes(approved, procurement):
    """Paul placing the order puts him on no side of the review."""
    workflow.mark_ordered(approved, by=procurement, po_number="PO-1", ordered_on=date.today())
    decided_on_sides = approved.steps.filter(kind=StepKind.REVIEW, decided_by=procurement)
    assert list(decided_on_sides.values_list("side", flat=True)) == ["procurement"]


def test_mark_ordered_and_close_are_refused_out_of_turn(api, approved, requester, procurement):
    response = api.as_user(requester).post(
        f"/api/requests/{approved.pk}/mark-ordered/", {"po_number": "PO-1"}
    )
    assert response.status_code == 403
    response = api.as_user(requester).post(f"/api/requests/{approved.pk}/close/", {})
    assert response.status_code == 409
    response = api.as_user(procurement).post(
        f"/api/requests/{approved.pk}/mark-ordered/", {"po_number": ""}
    )
    assert response.status_code == 400
    assert "po_number" in response.json()
    assert order_step(approved).state == StepState.OPEN


def test_an_auto_approved_request_is_procurements_to_order_too(requester, procurement):
    from approvals.models import ApprovalRule, RuleKind

    ApprovalRule.objects.create(
        name="Everything under 2k", kind=RuleKind.AUTO_APPROVE, max_total=Decimal("2000")
    )
    purchase_request = workflow.submit_request(
        PurchaseRequestFactory(requester=requester), by=requester
    )
    assert purchase_request.state == State.APPROVED
    assert list(steps_awaiting(procurement).values_list("request_id", "kind")) == [
        (purchase_request.pk, "order")
    ]


def test_a_delegate_of_procurement_finds_and_places_the_order(approved, procurement):
    from accounts.models import Delegation

    stand_in = UserFactory(username="sam")
    Delegation.objects.create(
        delegator=procurement,
        delegate=stand_in,
        starts_at=timezone.now() - timedelta(hours=1),
        ends_at=timezone.now() + timedelta(days=1),
    )
    assert [s.request_id for s in steps_awaiting(stand_in)] == [approved.pk]
    workflow.mark_ordered(approved, by=stand_in, po_number="PO-2", ordered_on=date.today())
    assert order_step(approved).decided_by == stand_in


# Reminders and escalation through the same exactly-once machinery as review steps


def sweep_at(hours):
    with time_machine.travel(START + timedelta(hours=hours), tick=False):
        return sweep_due_steps()


def order_alerts():
    return sorted(
        StepAlert.objects.filter(step__kind=StepKind.ORDER).values_list("kind", "sequence")
    )


@pytest.mark.usefixtures("group_items_at_once")  # the e-mail at once, not in the digest
def test_the_order_is_reminded_once_per_repeat_then_escalated_once(approved, procurement, cpo):
    assert sweep_at(71) == 0
    assert sweep_at(72) == 1  # due: 72 h by default
    assert sweep_at(72) == 0  # the same sweep again records nothing
    assert sweep_at(95) == 0
    assert sweep_at(96) == 1  # the repeat, 24 h later
    assert sweep_at(120) == 2  # third reminder and the escalation (120 h)
    assert sweep_at(120) == 0
    assert order_alerts() == [("escalation", 0), ("reminder", 0), ("reminder", 1), ("reminder", 2)]
    reminders = in_app(procurement, "Reminder:")
    assert (
        reminders == [f"Reminder: {approved.number} {approved.title} is waiting to be ordered"] * 3
    )
    assert in_app(cpo, "Escalated:") == [
        f"Escalated: {approved.number} {approved.title} is not ordered yet"
    ]
    assert order_step(approved).escalated_at is not None


def test_a_placed_order_is_not_reminded(approved, procurement):
    workflow.mark_ordered(approved, by=procurement, po_number="PO-3", ordered_on=date.today())
    assert sweep_at(200) == 0
    assert order_alerts() == []


def test_confirming_receipt_is_reminded_to_the_requester_and_never_escalated(
    approved, requester, procurement, cpo
):
    with time_machine.travel(START, tick=False):
        workflow.mark_ordered(approved, by=procurement, po_number="PO-4", ordered_on=START.date())
    receipt = approved.steps.get(kind=StepKind.RECEIPT)
    assert (receipt.user, receipt.due_at, receipt.escalate_at) == (
        requester,
        START + timedelta(hours=336),
        None,
    )
    assert sweep_at(335) == 0
    assert sweep_at(336) == 1
    assert sweep_at(336) == 0
    assert sweep_at(336 + 168 * 10) == 1  # one reminder, not a burst; no escalation ever
    assert sorted(StepAlert.objects.filter(step=receipt).values_list("kind", "sequence")) == [
        ("reminder", 0),
        ("reminder", 10),
    ]
    assert (
        in_app(requester, "Reminder:")
        == [f"Reminder: has {approved.number} {approved.title} arrived?"] * 2
    )
    workflow.close_request(approved, by=requester, received_on=date.today())
    assert sweep_at(336 + 168 * 20) == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_remind_the_order_once(requester, it_reviewer, procurement):
    with time_machine.travel(START, tick=False):
        purchase_request = workflow.submit_request(
            PurchaseRequestFactory(requester=requester), by=requester
        )
        approve_all(purchase_request, (it_reviewer, "it_reviewers"), (procurement, "procurement"))
    barrier = threading.Barrier(2)
    results = []

    def sweep():
        try:
            barrier.wait()
            results.append(sweep_due_steps(START + timedelta(hours=72)))
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [0, 1]
    assert order_alerts() == [("reminder", 0)]
    assert len(in_app(procurement, "Reminder:")) == 1
    assert ApprovalStep.objects.get(kind=StepKind.ORDER).state == StepState.OPEN


@pytest.mark.parametrize("size", [2, 12])
def test_awaiting_me_with_orders_runs_a_constant_number_of_queries(
    api, it_reviewer, procurement, django_assert_max_num_queries, size
):
    for index in range(size):
        purchase_request = PurchaseRequestFactory()
        workflow.submit_request(purchase_request, by=purchase_request.requester)
        if index % 2:
            approve_all(
                purchase_request, (it_reviewer, "it_reviewers"), (procurement, "procurement")
            )
    api.as_user(procurement)
    # token, groups, delegations, a page of steps (keyset), requests, their open steps, the
    # people of those steps' groups ("waiting on"), items
    with django_assert_max_num_queries(8):
        response = api.get("/api/requests/?awaiting=me&page_size=50")
    assert len(response.json()["results"]) == size


def test_a_withdrawn_request_leaves_nobodys_queue_and_is_not_reminded(
    requester, it_reviewer, procurement
):
    with time_machine.travel(START, tick=False):
        purchase_request = workflow.submit_request(
            PurchaseRequestFactory(requester=requester), by=requester
        )
    assert steps_awaiting(procurement).filter(request=purchase_request).exists()
    workflow.withdraw_request(purchase_request, by=requester, reason="Bought elsewhere")
    assert set(purchase_request.steps.values_list("state", flat=True)) == {StepState.SUPERSEDED}
    assert not steps_awaiting(procurement).filter(request=purchase_request).exists()
    assert not steps_awaiting(it_reviewer).filter(request=purchase_request).exists()
    assert sweep_at(500) == 0
