"""Resubmit without starting over (issue 13): approvals of the sides that did not ask for changes
carry over when nothing material changed; a material change reopens every step."""

from decimal import Decimal

import pytest

from accounts import roles
from approvals import workflow
from approvals.models import ProcessSettings, StepKind, StepState
from approvals.policies import can_decide
from approvals.selectors import steps_awaiting
from approvals.services import decide_step
from audit.models import AuditEvent
from intake import services
from intake.models import State
from tests.factories import CategoryFactory, UserFactory, VendorFactory

pytestmark = pytest.mark.django_db


def review_steps(purchase_request, round):
    return {
        (s.stage, s.group.name): s
        for s in purchase_request.steps.filter(kind=StepKind.REVIEW, round=round)
    }


def states(purchase_request, round):
    return {key: step.state for key, step in review_steps(purchase_request, round).items()}


@pytest.fixture
def sent_back(submitted, it_reviewer, procurement):
    """Round 1 at 1,000.00 EUR: Ivan approves the IT review, Paul asks for changes."""
    purchase_request = submitted()
    steps = review_steps(purchase_request, 1)
    decide_step(steps[1, "it_reviewers"], by=it_reviewer, decision="approve", comment="Secure.")
    decide_step(
        steps[1, "procurement"], by=procurement, decision="request_changes", comment="Quote?"
    )
    purchase_request.refresh_from_db()
    assert purchase_request.state == State.CHANGES_REQUESTED
    return purchase_request


def edit(purchase_request, requester, *, unit_price=None, **fields):
    line_items = None
    if unit_price is not None:
        line_items = [{"description": "Seats", "quantity": Decimal(1), "unit_price": unit_price}]
    services.update_request(purchase_request, by=requester, fields=fields, line_items=line_items)


def resubmit(purchase_request, requester):
    workflow.resubmit_request(purchase_request, by=requester)
    purchase_request.refresh_from_db()
    return purchase_request


def test_the_side_that_did_not_ask_for_changes_keeps_its_approval(
    client, sent_back, requester, it_reviewer, procurement
):
    purchase_request = resubmit(sent_back, requester)
    steps = review_steps(purchase_request, 2)
    carried = steps[1, "it_reviewers"]
    assert carried.state == StepState.APPROVED
    assert carried.carried_from == review_steps(purchase_request, 1)[1, "it_reviewers"]
    assert (carried.decided_by, carried.comment) == (it_reviewer, "Secure.")
    assert steps[1, "procurement"].state == StepState.OPEN
    event = AuditEvent.objects.for_object(purchase_request).get(kind="approval_carried_over")
    assert event.payload["from_round"] == 1
    assert event.payload["approved_by"] == str(it_reviewer)

    client.force_login(procurement)
    page = client.get(purchase_request.get_absolute_url()).content.decode()
    assert f"Carried over from round 1, approved by {it_reviewer}" in page
    assert f"step carried over from round 1, approved by {it_reviewer}" in page  # timeline
    assert '<details class="mt-2 earlier-round" data-round="1">' in page

    decide_step(steps[1, "procurement"], by=procurement, decision="approve")
    purchase_request.refresh_from_db()
    assert purchase_request.state == State.APPROVED


@pytest.mark.parametrize(
    ("unit_price", "carried"),
    [
        (Decimal("900.00"), True),  # cheaper
        (Decimal("1000.00"), True),  # unchanged
        (Decimal("1100.00"), True),  # up by exactly the 10 % tolerance
        (Decimal("1100.01"), False),  # one cent more
    ],
)
def test_the_cost_tolerance_boundary_is_exact(sent_back, requester, unit_price, carried):
    edit(sent_back, requester, unit_price=unit_price)
    purchase_request = resubmit(sent_back, requester)
    expected = StepState.APPROVED if carried else StepState.OPEN
    assert states(purchase_request, 2) == {
        (1, "it_reviewers"): expected,
        (1, "procurement"): StepState.OPEN,
    }
    material = AuditEvent.objects.for_object(purchase_request).filter(kind="material_change")
    if carried:
        assert not material.exists()
    else:
        assert material.get().payload["changes"] == [
            "the total cost rose from 1,000.00 EUR to 1,100.01 EUR, more than the 10% tolerance"
        ]


def test_the_tolerance_is_the_admins_setting(sent_back, requester):
    config = ProcessSettings.current()
    config.cost_tolerance_percent = Decimal("0")
    config.save()
    edit(sent_back, requester, unit_price=Decimal("1000.01"))
    purchase_request = resubmit(sent_back, requester)
    assert states(purchase_request, 2)[1, "it_reviewers"] == StepState.OPEN


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ("vendor", "the vendor changed"),
        ("category", "the category changed"),
        ("data_classification", "the data classification changed"),
        ("handles_personal_data", "the answer on personal data changed"),
    ],
)
def test_a_material_change_reopens_every_step(sent_back, requester, change, words):
    value = {
        "vendor": VendorFactory(status="approved"),
        "category": CategoryFactory(name="Software licence", slug="software-licence"),
        "data_classification": "confidential",
        "handles_personal_data": True,
    }[change]
    edit(sent_back, requester, **{change: value})
    purchase_request = resubmit(sent_back, requester)
    assert set(states(purchase_request, 2).values()) == {StepState.OPEN}
    assert not any(s.carried_from_id for s in purchase_request.steps.all())
    event = AuditEvent.objects.for_object(purchase_request).get(kind="material_change")
    assert event.payload["changes"] == [words]


def test_carry_over_switched_off_reopens_every_step(sent_back, requester):
    config = ProcessSettings.current()
    config.carry_over_approvals = False
    config.save()
    purchase_request = resubmit(sent_back, requester)
    assert set(states(purchase_request, 2).values()) == {StepState.OPEN}


def test_carried_over_approvals_still_count_for_four_eyes(submitted, requester, procurement):
    """Ivy sits in both teams: her IT approval carries over, so the procurement side of the new
    round needs somebody else."""
    ivy = UserFactory(username="ivy", roles=[roles.IT_REVIEWERS, roles.PROCUREMENT])
    purchase_request = submitted()
    steps = review_steps(purchase_request, 1)
    decide_step(steps[1, "it_reviewers"], by=ivy, decision="approve")
    decide_step(steps[1, "procurement"], by=procurement, decision="request_changes", comment="?")
    purchase_request = resubmit(purchase_request, requester)
    steps = review_steps(purchase_request, 2)
    assert steps[1, "it_reviewers"].decided_by == ivy
    verdict = can_decide(ivy, steps[1, "procurement"])
    assert not verdict.allowed
    assert "four eyes" in verdict.reason
    assert not steps_awaiting(ivy).filter(request=purchase_request).exists()
    assert steps_awaiting(procurement).filter(request=purchase_request).exists()


def test_only_the_side_that_asked_reopens_across_stages(
    submitted, requester, it_reviewer, procurement, cio, cpo, leadership_rules
):
    """The CIO asks for changes at stage 2 after the CPO approved: the IT side (IT review and
    CIO) reopens; procurement's review and the CPO's approval carry over."""
    purchase_request = submitted(total_cost=Decimal("30000"))
    steps = review_steps(purchase_request, 1)
    decide_step(steps[1, "it_reviewers"], by=it_reviewer, decision="approve")
    decide_step(steps[1, "procurement"], by=procurement, decision="approve")
    decide_step(steps[2, "cpo"], by=cpo, decision="approve")
    decide_step(steps[2, "cio"], by=cio, decision="request_changes", comment="Fewer seats")
    purchase_request = resubmit(purchase_request, requester)
    assert states(purchase_request, 2) == {
        (1, "it_reviewers"): StepState.OPEN,
        (1, "procurement"): StepState.APPROVED,
        (2, "cio"): StepState.WAITING,
        (2, "cpo"): StepState.APPROVED,
    }
    decide_step(
        review_steps(purchase_request, 2)[1, "it_reviewers"], by=it_reviewer, decision="approve"
    )
    assert review_steps(purchase_request, 2)[2, "cio"].state == StepState.OPEN
    decide_step(review_steps(purchase_request, 2)[2, "cio"], by=cio, decision="approve")
    purchase_request.refresh_from_db()
    assert purchase_request.state == State.APPROVED


def test_an_approval_carried_twice_names_the_round_it_was_given_in(
    sent_back, requester, procurement
):
    purchase_request = resubmit(sent_back, requester)
    decide_step(
        review_steps(purchase_request, 2)[1, "procurement"],
        by=procurement,
        decision="request_changes",
        comment="Still no quote",
    )
    purchase_request.refresh_from_db()
    purchase_request = resubmit(purchase_request, requester)
    carried = review_steps(purchase_request, 3)[1, "it_reviewers"]
    assert carried.state == StepState.APPROVED
    assert carried.carried_from.round == 1
