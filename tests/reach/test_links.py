"""Decision links (SPEC §8a): GET shows, POST decides in the recipient's own signed-in
session, through decide_step; a forwarded, reused, expired link or one sent before an edit
decides nothing and says why."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts import roles
from approvals.models import StepState
from approvals.services import decide_step
from audit.models import AuditEvent
from intake.models import PurchaseRequest
from reach.models import DecisionToken
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def decisions(step) -> int:
    return AuditEvent.objects.filter(kind__startswith="step_", payload__step=step.pk).count()


def test_opening_the_link_shows_the_request_and_decides_nothing(
    client, it_step, it_reviewer, link_for
):
    link = link_for(it_reviewer, it_step)
    client.force_login(it_reviewer)
    response = client.get(link)
    assert response.status_code == 200
    page = response.content.decode()
    assert it_step.request.title in page and "Approve" in page and "Reject" in page
    client.get(link)  # a mail scanner opens it again
    it_step.refresh_from_db()
    assert it_step.state == StepState.OPEN and decisions(it_step) == 0
    assert DecisionToken.objects.get().used_at is None


def test_without_a_session_the_link_asks_to_sign_in_and_comes_back(
    client, it_step, it_reviewer, link_for
):
    link = link_for(it_reviewer, it_step)
    response = client.get(link)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/decide/")
    signed_in = client.post(
        response["Location"], {"username": "ivan", "password": "secret-pass-123"}
    )
    assert signed_in["Location"] == link
    assert client.post(link, {"decision": "approve"}).status_code == 302
    it_step.refresh_from_db()
    assert it_step.state == StepState.APPROVED and it_step.decided_by == it_reviewer


def test_posting_decides_once_as_the_signed_in_recipient(client, it_step, it_reviewer, link_for):
    link = link_for(it_reviewer, it_step)
    client.force_login(it_reviewer)
    response = client.post(link, {"decision": "approve", "comment": "Fine by IT"})
    assert response.status_code == 302
    assert response["Location"] == f"{it_step.request.get_absolute_url()}#steps"
    it_step.refresh_from_db()
    assert (it_step.state, it_step.decided_by, it_step.comment) == (
        StepState.APPROVED,
        it_reviewer,
        "Fine by IT",
    )
    assert decisions(it_step) == 1

    again = client.post(link, {"decision": "reject", "comment": "changed my mind"})
    assert again.status_code == 410
    assert "already used" in again.content.decode()
    it_step.refresh_from_db()
    assert it_step.state == StepState.APPROVED and decisions(it_step) == 1


def test_a_forwarded_link_gives_nobody_else_a_right(client, it_step, it_reviewer, link_for):
    colleague = UserFactory(username="iris", roles=[roles.IT_REVIEWERS])  # may decide the step
    link = link_for(it_reviewer, it_step)
    client.force_login(colleague)
    shown = client.get(link)
    assert shown.status_code == 403
    assert "sent to somebody else" in shown.content.decode()
    assert it_step.request.title not in shown.content.decode()
    refused = client.post(link, {"decision": "approve"})
    assert refused.status_code == 403
    it_step.refresh_from_db()
    assert it_step.state == StepState.OPEN and decisions(it_step) == 0
    # The recipient's own link still works.
    client.force_login(it_reviewer)
    assert client.post(link, {"decision": "approve"}).status_code == 302


def test_a_link_sent_before_an_edit_decides_nothing(client, it_step, it_reviewer, link_for):
    link = link_for(it_reviewer, it_step)
    PurchaseRequest.objects.filter(pk=it_step.request_id).update(title="Twice the seats")
    client.force_login(it_reviewer)
    response = client.post(link, {"decision": "approve"})
    assert response.status_code == 410
    assert "changed after this link was sent" in response.content.decode()
    assert it_step.request.get_absolute_url() in response.content.decode()
    it_step.refresh_from_db()
    assert it_step.state == StepState.OPEN and decisions(it_step) == 0


def test_a_line_item_edit_voids_the_link_too(client, it_step, it_reviewer, link_for):
    link = link_for(it_reviewer, it_step)
    it_step.request.line_items.update(quantity=20)
    client.force_login(it_reviewer)
    assert client.post(link, {"decision": "approve"}).status_code == 410


def test_a_link_expires_after_seven_days(client, it_step, it_reviewer, link_for):
    link = link_for(it_reviewer, it_step)
    client.force_login(it_reviewer)
    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)):
        response = client.post(link, {"decision": "approve"})
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    it_step.refresh_from_db()
    assert it_step.state == StepState.OPEN


def test_a_link_ends_when_its_step_is_decided_elsewhere(client, it_step, it_reviewer, link_for):
    colleague = UserFactory(username="iris", roles=[roles.IT_REVIEWERS])
    link = link_for(it_reviewer, it_step)
    decide_step(it_step, by=colleague, decision="approve")
    client.force_login(it_reviewer)
    response = client.get(link)
    assert response.status_code == 410
    assert f"already approved by {colleague}" in response.content.decode()
    assert decisions(it_step) == 1


def test_a_reason_is_required_to_reject_and_the_link_stays_usable(
    client, it_step, it_reviewer, link_for
):
    link = link_for(it_reviewer, it_step)
    client.force_login(it_reviewer)
    response = client.post(link, {"decision": "reject", "comment": "  "})
    assert response.status_code == 400
    assert "comment is required" in response.content.decode()
    assert DecisionToken.objects.get().used_at is None
    client.post(link, {"decision": "reject", "comment": "No budget"})
    it_step.refresh_from_db()
    assert it_step.state == StepState.REJECTED and it_step.comment == "No budget"


def test_the_policy_still_decides_who_may(client, submitted, requester, link_for):
    """A link never widens rights: sent to someone the policy refuses, it decides nothing."""
    requester.groups.add(*UserFactory(roles=[roles.IT_REVIEWERS]).groups.all())
    step = submitted().steps.get(side="it")
    link = link_for(requester, step)
    client.force_login(requester)
    response = client.post(link, {"decision": "approve"})
    assert response.status_code == 403
    assert "requester never decides" in response.content.decode()
    step.refresh_from_db()
    assert step.state == StepState.OPEN


@pytest.mark.parametrize("token", ["nope", "x" * 300, "%00"])
def test_an_unknown_link_says_so(client, it_reviewer, token):
    client.force_login(it_reviewer)
    response = client.get(f"/decide/{token}/")
    assert response.status_code == 404
    assert "not valid" in response.content.decode()


def test_an_unknown_decision_is_refused(client, it_step, it_reviewer, link_for):
    link = link_for(it_reviewer, it_step)
    client.force_login(it_reviewer)
    assert client.post(link, {"decision": "delete"}).status_code == 400
    it_step.refresh_from_db()
    assert it_step.state == StepState.OPEN


def test_only_the_hash_of_a_token_is_stored(it_step, it_reviewer, link_for):
    token = link_for(it_reviewer, it_step).split("/")[2]
    stored = DecisionToken.objects.get()
    assert token not in stored.token_hash and len(stored.token_hash) == 64
