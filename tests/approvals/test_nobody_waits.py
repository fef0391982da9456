"""No step ever waits on nobody (SPEC §3, issue #29): when the rules bar every member of a
step's group, or its last eligible member leaves, is switched off or decides the other side,
the step goes to its side's leader at once and says why; the operations page lists any open
step that still has nobody (the leader barred too). One test per way a step can lose its last
eligible person."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts import roles
from accounts import services as accounts_services
from accounts.models import Delegation
from approvals import policies, services, workflow
from approvals.models import ApprovalStep, StepState
from audit.models import AuditEvent
from notifications.services import notices_of
from tests.factories import PurchaseRequestFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def paul(db):
    """The only person in procurement."""
    return UserFactory(
        username="paul", first_name="Paul", last_name="Pruitt", roles=[roles.PROCUREMENT]
    )


@pytest.fixture
def cleo(db):
    return UserFactory(username="cleo", first_name="Cleo", last_name="Chief", roles=[roles.CPO])


@pytest.fixture
def cora(db):
    return UserFactory(username="cora", first_name="Cora", last_name="Chief", roles=[roles.CIO])


def open_steps_nobody_may_decide():
    return list(policies.nobody_may_decide(ApprovalStep.objects.filter(state=StepState.OPEN)))


def assert_sent_to_leader(step, leader_group, *words):
    step.refresh_from_db()
    assert step.state == StepState.OPEN
    assert step.group.name == leader_group
    for word in words:
        assert word in step.leader_because
    assert AuditEvent.objects.filter(kind="step_sent_to_leader", payload__step=step.pk).count() == 1


def test_a_vendor_proposed_by_the_only_procurement_reviewer_goes_to_the_cpo(
    paul, cleo, it_reviewer, client
):
    """The issue's example: Paul proposes Figma; its review's procurement step would wait on
    Paul, whom four eyes bars, so Cleo decides, and the step says so."""
    purchase_request = workflow.submit_request(
        PurchaseRequestFactory(
            requester=paul, vendor=None, proposed_vendor_name="Figma", proposed_vendor_website=""
        ),
        by=paul,
    )
    vendor_step = ApprovalStep.objects.get(vendor__name="Figma", side="procurement")
    assert_sent_to_leader(vendor_step, roles.CPO, "Paul Pruitt proposed this vendor", "Cleo Chief")
    assert policies.can_decide(cleo, vendor_step).allowed
    assert notices_of(cleo).filter(url__contains="/vendors/").exists()
    assert open_steps_nobody_may_decide() == []

    client.force_login(cleo)
    page = client.get(vendor_step.subject.get_absolute_url()).content.decode()
    assert (
        "Paul Pruitt proposed this vendor or named it on a request, so Cleo Chief (CPO) decides"
        in page
    )
    assert purchase_request.steps.exists()


def test_a_request_filed_by_the_only_reviewer_of_a_side_goes_to_its_leader(paul, cleo, it_reviewer):
    purchase_request = workflow.submit_request(PurchaseRequestFactory(requester=paul), by=paul)
    step = purchase_request.steps.get(side="procurement", round=1)
    assert_sent_to_leader(step, roles.CPO, "Paul Pruitt filed this request")
    # The IT step had somebody: it stays with its group.
    assert purchase_request.steps.get(side="it", round=1).group.name == roles.IT_REVIEWERS


def test_four_eyes_after_a_decision_sends_the_other_side_to_its_leader(requester, cleo):
    """Ivan is in IT and in procurement, alone in both: once he approves the IT side, only
    somebody else may decide procurement's."""
    ivan = UserFactory(username="ivan", roles=[roles.IT_REVIEWERS, roles.PROCUREMENT])
    purchase_request = workflow.submit_request(
        PurchaseRequestFactory(requester=requester), by=requester
    )
    procurement_step = purchase_request.steps.get(side="procurement", round=1)
    assert procurement_step.group.name == roles.PROCUREMENT

    services.decide_step(purchase_request.steps.get(side="it"), by=ivan, decision="approve")

    assert_sent_to_leader(procurement_step, roles.CPO, "decided on its IT side")
    assert open_steps_nobody_may_decide() == []


@pytest.mark.parametrize(
    "leave",
    [
        pytest.param(accounts_services.deactivate_user, id="switched-off"),
        pytest.param(
            lambda ivan: ivan.groups.remove(Group.objects.get(name=roles.IT_REVIEWERS)),
            id="left-the-group",
        ),
        pytest.param(
            lambda ivan: Group.objects.get(name=roles.IT_REVIEWERS).user_set.clear(),
            id="group-emptied",
        ),
    ],
)
def test_the_last_member_leaving_sends_open_steps_to_the_leader(
    requester, it_reviewer, procurement, cora, leave, django_capture_on_commit_callbacks
):
    purchase_request = workflow.submit_request(
        PurchaseRequestFactory(requester=requester), by=requester
    )
    it_step = purchase_request.steps.get(side="it", round=1)

    with django_capture_on_commit_callbacks(execute=True):
        leave(it_reviewer)

    assert_sent_to_leader(it_step, roles.CIO, "Nobody is left in IT review", "Cora Chief")
    assert notices_of(cora).filter(topic__contains=str(it_step.pk)).exists()
    assert open_steps_nobody_may_decide() == []


def test_a_delegation_ending_leaves_the_step_with_its_member(
    requester, it_reviewer, procurement, cora, django_capture_on_commit_callbacks
):
    """A delegation only lends its delegator's rights: when it ends, the delegator still holds
    the step, so nothing moves (and a delegate never was somebody the step could not do
    without)."""
    dora = UserFactory(username="dora")
    now = timezone.now()
    delegation = Delegation.objects.create(
        delegator=it_reviewer,
        delegate=dora,
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=1),
    )
    purchase_request = workflow.submit_request(
        PurchaseRequestFactory(requester=requester), by=requester
    )
    it_step = purchase_request.steps.get(side="it", round=1)

    with django_capture_on_commit_callbacks(execute=True):
        accounts_services.end_delegation(delegation)

    it_step.refresh_from_db()
    assert it_step.group.name == roles.IT_REVIEWERS and not it_step.leader_because
    assert policies.can_decide(it_reviewer, it_step).allowed


def test_a_step_even_its_leader_may_not_decide_is_listed_for_the_admins(
    paul, it_reviewer, client, admin_user
):
    """The CPO files a request while Paul, alone in procurement, is switched off: the CPO may
    not decide their own request, so the step stays where it is, and the operations page lists
    it for an admin."""
    cleo = UserFactory(username="cleo", first_name="Cleo", last_name="Chief", roles=[roles.CPO])
    accounts_services.deactivate_user(paul)
    purchase_request = workflow.submit_request(PurchaseRequestFactory(requester=cleo), by=cleo)
    step = purchase_request.steps.get(side="procurement", round=1)
    assert step.group.name == roles.PROCUREMENT and not step.leader_because
    assert open_steps_nobody_may_decide() == [step]

    client.force_login(admin_user)
    page = client.get("/operations/").content.decode()
    assert "Steps nobody may decide" in page
    assert purchase_request.number in page


def test_the_operations_page_says_none_when_every_step_has_somebody(client, admin_user):
    client.force_login(admin_user)
    page = client.get("/operations/").content.decode()
    assert "None: every open step has somebody who may decide it." in page


def test_the_rule_preview_warns_of_a_group_too_small_for_four_eyes(
    paul, it_reviewer, admin_user, client, api
):
    """Procurement has only Paul, IT only Ivan... and a second IT person keeps IT's step in IT."""
    UserFactory(username="irene", roles=[roles.IT_REVIEWERS])
    client.force_login(admin_user)
    page = client.get("/approvals/rules/preview/", {"total": "1000"}).content.decode()
    assert "Too few people to keep four eyes" in page
    assert "Procurement has one person" in page and "the step goes to the CPO" in page
    assert "IT review has one person" not in page

    api.force_authenticate(admin_user)
    answer = api.post("/api/rules/preview/", {"total": "1000"}, format="json").json()
    assert any(w.startswith("Procurement has one person") for w in answer["warnings"])


def test_the_rule_preview_warns_of_an_empty_group(it_reviewer, admin_user, client):
    client.force_login(admin_user)
    page = client.get("/approvals/rules/preview/", {"total": "1000"}).content.decode()
    assert "Nobody active is in Procurement: its steps go to the CPO at once." in page


def test_a_request_naming_a_vendor_under_review_bars_its_filer_from_the_review(
    paul, cleo, it_reviewer
):
    """Rita proposes Figma; then Paul, alone in procurement, files a request naming it: he may
    not decide its review any more, so its procurement step goes to the CPO."""
    rita = UserFactory(username="rita")
    workflow.submit_request(
        PurchaseRequestFactory(
            requester=rita, vendor=None, proposed_vendor_name="Figma", proposed_vendor_website=""
        ),
        by=rita,
    )
    vendor_step = ApprovalStep.objects.get(vendor__name="Figma", side="procurement")
    assert vendor_step.group.name == roles.PROCUREMENT

    workflow.submit_request(
        PurchaseRequestFactory(requester=paul, vendor=vendor_step.vendor), by=paul
    )

    assert_sent_to_leader(vendor_step, roles.CPO, "Paul Pruitt proposed this vendor")


def test_the_timeline_says_the_step_went_to_the_leader_and_why(paul, cleo, it_reviewer, client):
    purchase_request = workflow.submit_request(PurchaseRequestFactory(requester=paul), by=paul)
    client.force_login(cleo)
    page = client.get(purchase_request.get_absolute_url()).content.decode()
    assert "Procurement step sent to the side’s leader: Paul Pruitt filed this request" in page
