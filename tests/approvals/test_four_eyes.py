"""Four eyes by person and principal (SPEC §3): the people on the IT side of a request or a
vendor review (who decided, and for whom) and those on its procurement side are disjoint
across every delegation; the requester (for a vendor: its proposer and whoever filed a request
naming it) decides nothing. `decidable_steps` (the lists) and `can_decide` (the decision) agree."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Delegation
from approvals import workflow
from approvals.models import ApprovalStep, Side, StepState
from approvals.policies import can_decide, decidable_steps
from approvals.selectors import steps_awaiting
from approvals.services import decide_step
from intake.models import State
from tests.factories import PurchaseRequestFactory, UserFactory, VendorFactory
from vendors.models import VendorStatus

pytestmark = pytest.mark.django_db


def delegate(delegator, delegate_to):
    now = timezone.now()
    return Delegation.objects.create(
        delegator=delegator,
        delegate=delegate_to,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=1),
    )


def fresh(user):
    """The same person as a new object, as the next HTTP request would load them."""
    return type(user).objects.get(pk=user.pk)


def open_step(subject, side):
    return subject.steps.get(side=side, state=StepState.OPEN)


def test_one_person_in_both_groups_cannot_cover_both_sides_through_a_delegate(submitted):
    """A (IT and procurement) approves IT, delegates to B, and B may not approve procurement
    for A: that would be A's authority on both sides."""
    both = UserFactory(username="alex", roles=["it_reviewers", "procurement"])
    stand_in = UserFactory(username="bea")
    purchase_request = submitted()
    decide_step(open_step(purchase_request, Side.IT), by=both, decision="approve")
    delegate(both, stand_in)

    procurement_step = open_step(purchase_request, Side.PROCUREMENT)
    verdict = can_decide(fresh(stand_in), procurement_step)
    assert not verdict.allowed
    assert "alex" in verdict.reason.lower() or "four eyes" in verdict.reason
    with pytest.raises(PermissionDenied):
        decide_step(procurement_step, by=fresh(stand_in), decision="approve")
    assert procurement_step not in steps_awaiting(fresh(stand_in))
    purchase_request.refresh_from_db()
    assert purchase_request.state == State.IN_REVIEW


def test_a_chain_of_delegations_cannot_cover_both_sides(submitted, it_reviewer, procurement):
    """R decides IT for Ivan; then Ivan, holding Paul's delegation, may not decide procurement
    for Paul: Ivan is already on the IT side."""
    stand_in = UserFactory(username="ruth")
    purchase_request = submitted()
    delegate(it_reviewer, stand_in)
    decide_step(open_step(purchase_request, Side.IT), by=fresh(stand_in), decision="approve")
    it_step = purchase_request.steps.get(side=Side.IT)
    assert (it_step.decided_by, it_step.decided_for) == (stand_in, it_reviewer)

    delegate(procurement, it_reviewer)
    procurement_step = open_step(purchase_request, Side.PROCUREMENT)
    assert not can_decide(fresh(it_reviewer), procurement_step).allowed
    assert procurement_step not in steps_awaiting(fresh(it_reviewer))
    with pytest.raises(PermissionDenied, match="four eyes"):
        decide_step(procurement_step, by=fresh(it_reviewer), decision="approve")
    # Paul himself is not involved on the IT side: he still decides.
    decide_step(procurement_step, by=fresh(procurement), decision="approve")
    purchase_request.refresh_from_db()
    assert purchase_request.state == State.APPROVED


def test_the_one_acted_for_on_one_side_cannot_decide_the_other(submitted, it_reviewer):
    """Ivan's stand-in decided IT for Ivan; Ivan, also in procurement, may not take that side."""
    it_reviewer.groups.add(Group.objects.get(name="procurement"))
    stand_in = UserFactory(username="sam")
    purchase_request = submitted()
    delegate(it_reviewer, stand_in)
    decide_step(open_step(purchase_request, Side.IT), by=fresh(stand_in), decision="approve")
    procurement_step = open_step(purchase_request, Side.PROCUREMENT)
    assert not can_decide(fresh(it_reviewer), procurement_step).allowed
    assert procurement_step not in steps_awaiting(fresh(it_reviewer))


def test_a_delegate_of_the_requester_neither_sees_nor_decides_the_request(requester, it_reviewer):
    """The requester is also an IT reviewer and delegates to Ivan's colleague: the colleague
    acts with their own rights, never with the requester's on the requester's request."""
    requester.groups.add(Group.objects.get(name="it_reviewers"))
    stand_in = UserFactory(username="dora")
    delegate(requester, stand_in)

    purchase_request = workflow.submit_request(
        PurchaseRequestFactory(requester=requester), by=requester
    )
    it_step = open_step(purchase_request, Side.IT)
    assert it_step not in steps_awaiting(fresh(stand_in))
    verdict = can_decide(fresh(stand_in), it_step)
    assert not verdict.allowed and "filed it" in verdict.reason
    # The requester's own list leaves it out too, though they are in the group.
    assert it_step not in steps_awaiting(fresh(requester))
    assert it_step in steps_awaiting(fresh(it_reviewer))


def test_a_delegate_in_the_group_themself_decides_with_their_own_rights(submitted):
    """Holding the step both by membership and by a delegation, the user acts as themself."""
    ivan = UserFactory(username="ivy", roles=["it_reviewers"])
    colleague = UserFactory(username="ian", roles=["it_reviewers"])
    delegate(colleague, ivan)
    purchase_request = submitted()
    verdict = can_decide(fresh(ivan), open_step(purchase_request, Side.IT))
    assert verdict.allowed and verdict.on_behalf_of is None


def vendor_under_review(vendor, *, by):
    from approvals.workflow import start_review

    start_review(vendor, by=by)
    return vendor


def test_whoever_proposed_a_vendor_does_not_decide_its_review(it_reviewer, procurement):
    from vendors.services import create_vendor

    vendor = create_vendor(by=it_reviewer, fields={"name": "Proposed Ltd"})
    vendor_under_review(vendor, by=procurement)
    it_step = open_step(vendor, Side.IT)
    verdict = can_decide(fresh(it_reviewer), it_step)
    assert not verdict.allowed and "proposed this vendor" in verdict.reason
    assert it_step not in steps_awaiting(fresh(it_reviewer))
    with pytest.raises(PermissionDenied):
        decide_step(it_step, by=fresh(it_reviewer), decision="approve")
    # Nor through somebody else's delegation.
    other_it = UserFactory(username="iris", roles=["it_reviewers"])
    delegate(other_it, it_reviewer)
    assert not can_decide(fresh(it_reviewer), it_step).allowed


def test_whoever_filed_a_request_naming_a_vendor_does_not_decide_its_review(
    it_reviewer, procurement
):
    vendor = VendorFactory(status=VendorStatus.PROSPECTIVE)
    PurchaseRequestFactory(requester=procurement, vendor=vendor)
    vendor_under_review(vendor, by=it_reviewer)
    procurement_step = open_step(vendor, Side.PROCUREMENT)
    assert not can_decide(fresh(procurement), procurement_step).allowed
    assert procurement_step not in steps_awaiting(fresh(procurement))
    assert can_decide(fresh(it_reviewer), open_step(vendor, Side.IT)).allowed


def test_the_vendor_review_needs_different_principals_on_each_side(it_reviewer, procurement):
    both = UserFactory(username="bo", roles=["it_reviewers", "procurement"])
    stand_in = UserFactory(username="stan")
    vendor = vendor_under_review(VendorFactory(status=VendorStatus.PROSPECTIVE), by=procurement)
    decide_step(open_step(vendor, Side.IT), by=both, decision="approve")
    delegate(both, stand_in)
    procurement_step = open_step(vendor, Side.PROCUREMENT)
    assert not can_decide(fresh(stand_in), procurement_step).allowed
    assert procurement_step not in steps_awaiting(fresh(stand_in))


# The property: for random people, groups, delegations and decisions, the list and the policy
# give the same answer for every (user, step) pair.

GROUPS = ["it_reviewers", "procurement", "cio", "cpo"]
SIDE_OF = {"it_reviewers": Side.IT, "cio": Side.IT, "procurement": Side.PROCUREMENT}
SIDE_OF["cpo"] = Side.PROCUREMENT
PEOPLE = 5

people_groups = st.lists(st.sets(st.sampled_from(GROUPS), max_size=3), min_size=PEOPLE, max_size=5)
delegations = st.lists(
    st.tuples(st.integers(0, PEOPLE - 1), st.integers(0, PEOPLE - 1)).filter(
        lambda p: p[0] != p[1]
    ),
    max_size=4,
)
# Each step: its group, and optionally (decider, acted-for) when already decided.
steps = st.lists(
    st.tuples(
        st.sampled_from(GROUPS),
        st.none() | st.tuples(st.integers(0, PEOPLE - 1), st.none() | st.integers(0, PEOPLE - 1)),
    ),
    min_size=1,
    max_size=5,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    groups=people_groups,
    delegated=delegations,
    request_steps=steps,
    vendor_steps=steps,
    requester_index=st.integers(0, PEOPLE),  # PEOPLE: somebody outside the five
    proposer_index=st.none() | st.integers(0, PEOPLE - 1),
)
def test_awaiting_lists_and_the_policy_agree(
    db, groups, delegated, request_steps, vendor_steps, requester_index, proposer_index
):
    with transaction.atomic():
        people = [
            UserFactory(username=f"p{i}", roles=sorted(names)) for i, names in enumerate(groups)
        ]
        outsider = UserFactory(username="outsider")
        for delegator, delegate_to in delegated:
            delegate(people[delegator], people[delegate_to])
        requester = people[requester_index] if requester_index < PEOPLE else outsider
        vendor = VendorFactory(
            status=VendorStatus.UNDER_REVIEW,
            proposed_by=people[proposer_index] if proposer_index is not None else None,
        )
        purchase_request = PurchaseRequestFactory(
            requester=requester, state=State.IN_REVIEW, vendor=vendor
        )
        created = []
        for subject, planned in (("request", request_steps), ("vendor", vendor_steps)):
            for stage, (group_name, decision) in enumerate(planned, start=1):
                decided_by, decided_for = (None, None)
                if decision is not None:
                    decided_by = people[decision[0]]
                    decided_for = people[decision[1]] if decision[1] is not None else None
                created.append(
                    ApprovalStep.objects.create(
                        **{subject: purchase_request if subject == "request" else vendor},
                        stage=stage,
                        side=SIDE_OF[group_name],
                        group=Group.objects.get(name=group_name),
                        rule_name="property",
                        state=StepState.APPROVED if decision else StepState.OPEN,
                        decided_by=decided_by,
                        decided_for=decided_for,
                        sla_hours=8,
                        repeat_every_hours=8,
                        escalate_after_hours=24,
                    )
                )
        for person in [*people, outsider]:
            listed = set(
                decidable_steps(fresh(person))
                .filter(pk__in=[s.pk for s in created])
                .values_list("pk", flat=True)
            )
            viewer = fresh(person)
            for step in created:
                step = ApprovalStep.objects.select_related("request", "vendor", "group").get(
                    pk=step.pk
                )
                verdict = can_decide(viewer, step)
                assert (step.pk in listed) == verdict.allowed, (
                    f"{person.username} on step {step.side}/{step.group.name}: "
                    f"list says {step.pk in listed}, policy says {verdict}"
                )
        transaction.set_rollback(True)
