from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.models import Delegation
from approvals.models import StepState
from approvals.services import decide_step
from audit.models import AuditEvent
from core.errors import ConcurrentDecision
from intake.models import State
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def step(purchase_request, side, stage=1):
    return purchase_request.steps.get(side=side, stage=stage, round=1)


def test_both_sides_approve_and_the_request_is_approved(submitted, it_reviewer, procurement):
    purchase_request = submitted()
    decide_step(step(purchase_request, "it"), by=it_reviewer, decision="approve")
    purchase_request.refresh_from_db()
    assert purchase_request.state == State.IN_REVIEW
    decide_step(step(purchase_request, "procurement"), by=procurement, decision="approve")
    purchase_request.refresh_from_db()
    assert purchase_request.state == State.APPROVED
    assert purchase_request.decided_at is not None


def test_stage_two_opens_only_after_stage_one(
    submitted, leadership_rules, it_reviewer, procurement, cio, cpo
):
    purchase_request = submitted(
        total_cost=Decimal("30000"),
        handles_personal_data=True,
        vendor=None,
        proposed_vendor_name="Acme",
    )
    with pytest.raises(ConcurrentDecision, match="Stage 2 opens when"):
        decide_step(step(purchase_request, "it", 2), by=cio, decision="approve")
    decide_step(step(purchase_request, "it"), by=it_reviewer, decision="approve")
    decide_step(step(purchase_request, "procurement"), by=procurement, decision="approve")
    assert step(purchase_request, "it", 2).state == StepState.OPEN
    assert step(purchase_request, "it", 2).due_at > timezone.now()
    decide_step(step(purchase_request, "it", 2), by=cio, decision="approve")
    decide_step(step(purchase_request, "procurement", 2), by=cpo, decision="approve")
    purchase_request.refresh_from_db()
    assert purchase_request.state == State.APPROVED
    kinds = list(AuditEvent.objects.for_object(purchase_request).values_list("kind", flat=True))
    assert kinds.count("stage_opened") == 1
    assert kinds[-1] == "approve"


def test_a_rejection_rejects_the_request_and_supersedes_open_steps(submitted, it_reviewer):
    purchase_request = submitted()
    decide_step(step(purchase_request, "it"), by=it_reviewer, decision="reject", comment="No")
    purchase_request.refresh_from_db()
    assert purchase_request.state == State.REJECTED
    assert step(purchase_request, "procurement").state == StepState.SUPERSEDED


def test_request_changes_sends_it_back(submitted, procurement):
    purchase_request = submitted()
    decide_step(
        step(purchase_request, "procurement"),
        by=procurement,
        decision="request_changes",
        comment="Quote?",
    )
    purchase_request.refresh_from_db()
    assert purchase_request.state == State.CHANGES_REQUESTED
    assert step(purchase_request, "it").state == StepState.SUPERSEDED


@pytest.mark.parametrize("decision", ["reject", "request_changes"])
def test_reject_and_request_changes_need_a_comment(submitted, it_reviewer, decision):
    purchase_request = submitted()
    with pytest.raises(ValidationError, match="comment is required"):
        decide_step(step(purchase_request, "it"), by=it_reviewer, decision=decision, comment="  ")
    assert step(purchase_request, "it").state == StepState.OPEN


def test_requester_never_decides_own_request_even_as_admin(submitted, requester):
    requester.is_superuser = requester.is_staff = True
    requester.save()
    requester.groups.add(*Group.objects.all())
    purchase_request = submitted()
    with pytest.raises(PermissionDenied, match="requester never decides"):
        decide_step(step(purchase_request, "it"), by=requester, decision="approve")


def test_only_members_of_the_steps_group_decide(submitted, procurement):
    purchase_request = submitted()
    with pytest.raises(PermissionDenied, match="you are not in it"):
        decide_step(step(purchase_request, "it"), by=procurement, decision="approve")


def test_the_two_sides_need_two_people(submitted, group):
    both = UserFactory(username="both")
    both.groups.add(group("it_reviewers"), group("procurement"))
    purchase_request = submitted()
    decide_step(step(purchase_request, "it"), by=both, decision="approve")
    with pytest.raises(PermissionDenied, match="needs a different person"):
        decide_step(step(purchase_request, "procurement"), by=both, decision="approve")


def test_a_decided_step_cannot_be_decided_again(submitted, it_reviewer, group):
    colleague = UserFactory(username="colleague", roles=["it_reviewers"])
    purchase_request = submitted()
    decide_step(step(purchase_request, "it"), by=it_reviewer, decision="approve")
    with pytest.raises(ConcurrentDecision, match="already approved by"):
        decide_step(step(purchase_request, "it"), by=colleague, decision="reject", comment="late")


def test_delegate_decides_in_the_window_and_both_names_are_recorded(submitted, it_reviewer):
    stand_in = UserFactory(username="stand-in")
    now = timezone.now()
    Delegation.objects.create(
        delegator=it_reviewer,
        delegate=stand_in,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=1),
    )
    purchase_request = submitted()
    decided = decide_step(step(purchase_request, "it"), by=stand_in, decision="approve")
    assert (decided.decided_by, decided.decided_for) == (stand_in, it_reviewer)
    event = AuditEvent.objects.for_object(purchase_request).get(kind="step_approve")
    assert (event.actor, event.on_behalf_of) == (stand_in, it_reviewer)


def test_delegation_outside_its_window_gives_no_rights(submitted, it_reviewer):
    stand_in = UserFactory(username="stand-in")
    now = timezone.now()
    Delegation.objects.create(
        delegator=it_reviewer,
        delegate=stand_in,
        starts_at=now - timedelta(days=3),
        ends_at=now - timedelta(days=1),
    )
    purchase_request = submitted()
    with pytest.raises(PermissionDenied):
        decide_step(step(purchase_request, "it"), by=stand_in, decision="approve")


def test_requester_as_delegate_still_cannot_decide(submitted, requester, it_reviewer):
    now = timezone.now()
    Delegation.objects.create(
        delegator=it_reviewer,
        delegate=requester,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=1),
    )
    purchase_request = submitted()
    with pytest.raises(PermissionDenied, match="requester never decides"):
        decide_step(step(purchase_request, "it"), by=requester, decision="approve")
