"""seed_demo shows the pipeline (issue 13): a request waiting for Paul to order it, and one whose
IT approval carried over into its second round."""

import pytest
from django.core.management import call_command

from accounts.models import User
from approvals.models import StepKind, StepState
from approvals.selectors import steps_awaiting
from intake.management.commands.seed_demo import CARRIED_OVER_DEMO_TITLE, TO_ORDER_DEMO_TITLE
from intake.models import PurchaseRequest, State

pytestmark = pytest.mark.django_db


def test_the_demo_has_a_request_to_order_and_a_carried_over_approval(api):
    call_command("seed_demo")
    call_command("seed_demo")  # idempotent: no second copy
    paul, rita, ivan = (User.objects.get(username=name) for name in ("paul", "rita", "ivan"))

    to_order = PurchaseRequest.objects.get(title=TO_ORDER_DEMO_TITLE)
    assert to_order.state == State.APPROVED
    assert to_order.total_cost == 30000
    reviews = sorted(
        (s.stage, s.group.name, s.decided_by.username)
        for s in to_order.steps.filter(kind=StepKind.REVIEW)
    )
    assert reviews == [
        (1, "it_reviewers", "ivan"),
        (1, "procurement", "paul"),
        (2, "cio", "cora"),
        (2, "cpo", "cleo"),
    ]
    assert steps_awaiting(paul).filter(request=to_order, kind=StepKind.ORDER).exists()
    response = api.as_user(paul).get("/api/requests/?awaiting=me")
    assert to_order.pk in [row["id"] for row in response.json()["results"]]

    carried = PurchaseRequest.objects.get(title=CARRIED_OVER_DEMO_TITLE)
    assert carried.state == State.IN_REVIEW
    it_step = carried.steps.get(round=2, side="it")
    assert (it_step.state, it_step.decided_by, it_step.carried_from.round) == (
        StepState.APPROVED,
        ivan,
        1,
    )
    assert carried.steps.get(round=2, side="procurement").state == StepState.OPEN
    assert (
        PurchaseRequest.objects.filter(title=CARRIED_OVER_DEMO_TITLE, requester=rita).count() == 1
    )
