"""Automatic assignment per group (issue #28): when a stage opens, a group set to round robin or
to fewest open steps gives each new step to one person who may decide it, skipping anyone out
of office and anyone four eyes bars; with nobody to choose, the step stays the group's."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts import roles
from accounts.models import Delegation
from approvals import services
from approvals.models import AssignmentMode, GroupAssignment
from audit.models import AuditEvent
from notifications.models import Channel, Notification
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def assigns(group_name, mode):
    GroupAssignment.objects.update_or_create(
        group=Group.objects.get(name=group_name), defaults={"mode": mode}
    )


@pytest.fixture
def it_team(db):
    """Three IT reviewers, in the order round robin takes them (by id)."""
    return [
        UserFactory(username=name, first_name=name.title(), roles=[roles.IT_REVIEWERS])
        for name in ("ana", "ben", "cai")
    ]


@pytest.fixture
def procurement_team(procurement, cpo):
    return [procurement]


def it_holders(submitted, count):
    holders = []
    for n in range(count):
        step = submitted(title=f"Request {n}").steps.get(side="it")
        holders.append(step.assignee.username if step.assignee_id else None)
    return holders


def test_off_by_default_nobody_is_assigned(submitted, it_team, procurement_team):
    assert it_holders(submitted, 2) == [None, None]


def test_round_robin_gives_each_new_step_to_the_next_person_in_turn(
    submitted, it_team, procurement_team
):
    assigns(roles.IT_REVIEWERS, AssignmentMode.ROUND_ROBIN)
    assert it_holders(submitted, 4) == ["ana", "ben", "cai", "ana"]
    # Procurement, left off, still works as a group.
    assert not submitted().steps.get(side="procurement").assignee_id


def test_round_robin_skips_somebody_out_of_office(submitted, it_team, procurement_team):
    ana, ben, cai = it_team
    now = timezone.now()
    Delegation.objects.create(
        delegator=ben,
        delegate=cai,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=3),
    )
    assigns(roles.IT_REVIEWERS, AssignmentMode.ROUND_ROBIN)
    assert it_holders(submitted, 3) == ["ana", "cai", "ana"]


def test_the_requester_is_never_assigned_their_own_request(submitted, it_team, requester):
    requester.groups.add(Group.objects.get(name=roles.IT_REVIEWERS))  # rita reviews IT too
    assigns(roles.IT_REVIEWERS, AssignmentMode.ROUND_ROBIN)
    assert "rita" not in it_holders(submitted, 5)


def test_fewest_open_gives_the_step_to_whoever_holds_the_fewest(
    submitted, it_team, procurement_team
):
    ana, ben, cai = it_team
    for n in range(2):
        services.take_step(submitted(title=f"Taken {n}").steps.get(side="it"), by=ana)
    services.take_step(submitted(title="Taken by Cai").steps.get(side="it"), by=cai)
    assigns(roles.IT_REVIEWERS, AssignmentMode.FEWEST_OPEN)
    # ana 2, ben 0, cai 1 -> ben; then ben 1 = cai 1 -> ben (first among equals)... and on.
    assert it_holders(submitted, 4) == ["ben", "ben", "cai", "ana"]


def test_one_person_never_gets_both_sides_of_one_request(submitted, cpo):
    both = UserFactory(username="bo", roles=[roles.IT_REVIEWERS, roles.PROCUREMENT])
    UserFactory(username="pia", roles=[roles.PROCUREMENT])
    assigns(roles.IT_REVIEWERS, AssignmentMode.ROUND_ROBIN)
    assigns(roles.PROCUREMENT, AssignmentMode.ROUND_ROBIN)
    purchase_request = submitted()
    holders = {s.side: s.assignee.username for s in purchase_request.steps.all()}
    assert holders == {"it": "bo", "procurement": "pia"}
    assert both.pk == purchase_request.steps.get(side="it").assignee_id


def test_a_later_stage_skips_whoever_decided_the_other_side(
    submitted, leadership_rules, it_reviewer, cpo
):
    """Four eyes: Bo approved procurement's stage 1, so the CIO's stage 2 (IT side) goes to
    the other CIO."""
    both = UserFactory(username="bo", roles=[roles.PROCUREMENT, roles.CIO])
    UserFactory(username="cy", roles=[roles.CIO])
    assigns(roles.CIO, AssignmentMode.ROUND_ROBIN)
    purchase_request = submitted(
        handles_personal_data=True, total_cost=60_000, vendor=None, proposed_vendor_name="New Co"
    )
    services.decide_step(
        purchase_request.steps.get(stage=1, side="procurement"), by=both, decision="approve"
    )
    services.decide_step(
        purchase_request.steps.get(stage=1, side="it"), by=it_reviewer, decision="approve"
    )
    assert purchase_request.steps.get(stage=2, side="it").assignee.username == "cy"


def test_with_nobody_to_choose_the_step_stays_the_groups(submitted, it_team, procurement_team):
    now = timezone.now()
    stand_in = UserFactory(username="stand-in")
    for person in it_team:
        Delegation.objects.create(
            delegator=person, delegate=stand_in, starts_at=now, ends_at=now + timedelta(days=1)
        )
    assigns(roles.IT_REVIEWERS, AssignmentMode.FEWEST_OPEN)
    assert it_holders(submitted, 1) == [None]


def test_the_person_assigned_is_told_and_the_assignment_is_recorded(
    submitted, it_team, procurement_team
):
    assigns(roles.IT_REVIEWERS, AssignmentMode.ROUND_ROBIN)
    step = submitted(title="Miro for the design team").steps.get(side="it")
    ana = it_team[0]
    told = Notification.objects.get(
        recipient=ana, channel=Channel.IN_APP, subject__startswith="Assigned to you"
    )
    assert "IT review assigns new steps by round robin" in told.summary
    assert (
        not Notification.objects.filter(subject__startswith="Assigned to you")
        .exclude(recipient=ana)
        .exists()
    )
    event = AuditEvent.objects.for_object(step.request).get(kind="step_assigned")
    assert (event.actor, event.payload["holder_username"], event.payload["automatic"]) == (
        None,
        "ana",
        "round robin",
    )
