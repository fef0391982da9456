"""Two people deciding at the same moment, on PostgreSQL with real threads (SPEC §9)."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from approvals.models import StepState
from approvals.services import decide_step
from audit.models import AuditEvent
from core.errors import ConcurrentDecision
from intake.models import PurchaseRequest, State
from tests.factories import UserFactory, VendorFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


def run_together(*calls):
    """Runs each call in its own thread and database connection, released at the same moment;
    returns what each returned or raised."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            outcomes[index] = call()
        except Exception as error:  # noqa: BLE001 - the outcome is asserted by the test
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.parametrize("attempt", range(3))
def test_the_same_step_decided_twice_at_once_has_one_winner(submitted, it_reviewer, attempt):
    colleague = UserFactory(username="colleague", roles=["it_reviewers"])
    purchase_request = submitted()
    step = purchase_request.steps.get(side="it")
    outcomes = run_together(
        lambda: decide_step(step, by=it_reviewer, decision="approve"),
        lambda: decide_step(step, by=colleague, decision="reject", comment="No budget"),
    )
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert len(errors) == 1, outcomes
    assert isinstance(errors[0], ConcurrentDecision)
    step.refresh_from_db()
    assert step.state in (StepState.APPROVED, StepState.REJECTED)
    decisions = AuditEvent.objects.for_object(purchase_request).filter(kind__startswith="step_")
    assert decisions.count() == 1


@pytest.mark.parametrize("attempt", range(3))
def test_last_two_steps_of_a_stage_open_the_next_stage_exactly_once(
    submitted, leadership_rules, it_reviewer, procurement, attempt
):
    purchase_request = submitted(
        total_cost=Decimal("30000"),
        handles_personal_data=True,
        vendor=VendorFactory(status="prospective"),
    )
    it_step = purchase_request.steps.get(stage=1, side="it")
    procurement_step = purchase_request.steps.get(stage=1, side="procurement")
    outcomes = run_together(
        lambda: decide_step(it_step, by=it_reviewer, decision="approve"),
        lambda: decide_step(procurement_step, by=procurement, decision="approve"),
    )
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    events = AuditEvent.objects.for_object(purchase_request)
    assert events.filter(kind="stage_opened").count() == 1
    assert set(purchase_request.steps.filter(stage=2).values_list("state", flat=True)) == {"open"}


@pytest.mark.parametrize("attempt", range(3))
def test_last_two_steps_approve_the_request_exactly_once(
    submitted, it_reviewer, procurement, attempt
):
    purchase_request = submitted()
    it_step = purchase_request.steps.get(side="it")
    procurement_step = purchase_request.steps.get(side="procurement")
    outcomes = run_together(
        lambda: decide_step(it_step, by=it_reviewer, decision="approve"),
        lambda: decide_step(procurement_step, by=procurement, decision="approve"),
    )
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert PurchaseRequest.objects.get(pk=purchase_request.pk).state == State.APPROVED
    assert AuditEvent.objects.for_object(purchase_request).filter(kind="approve").count() == 1
