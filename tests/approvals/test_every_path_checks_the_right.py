"""Leaving takes every right at once (issue #27, SPEC §3): every path that decides a step asks
the same policy at the moment of deciding, so a person who was deactivated, left the step's
group, or whose delegation ended (or whose delegator left) decides nothing on any path, even
with a session, a decision link, a reply address or a Slack account obtained before.

One row per (path, what changed since the person got their way in). Each path is driven as its
user drives it: the page and the API in a signed-in session, the decision link as a POST in that
session, the reply as a received e-mail, Slack as a signed click to a stand-in Slack server."""

from datetime import timedelta
from email.message import EmailMessage

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts import roles
from accounts import services as accounts_services
from accounts.models import Delegation
from approvals import policies, workflow
from approvals import services as approval_services
from approvals.models import Consultation, StepState
from audit.models import AuditEvent
from reach import inbound
from reach import services as reach_services
from reach.models import SlackAccount, TokenKind
from tests.factories import PurchaseRequestFactory, UserFactory
from tests.support.fake_slack import (
    BOT_TOKEN,
    SIGNING_SECRET,
    FakeSlack,
    interaction_body,
    signed_headers,
)

pytestmark = pytest.mark.django_db

TRUSTED = "mx.tandem.example"
INACTIVE = "switched off"
NOT_IN_GROUP = "you are not in it and hold no delegation for it"


@pytest.fixture
def slack(settings):
    fake = FakeSlack().start()
    settings.TANDEM_SLACK_BOT_TOKEN = BOT_TOKEN
    settings.TANDEM_SLACK_SIGNING_SECRET = SIGNING_SECRET
    settings.TANDEM_SLACK_API_URL = fake.url
    yield fake
    fake.stop()


@pytest.fixture(autouse=True)
def _inbound(settings):
    settings.TANDEM_INBOUND_ADDRESS = "decide@reply.tandem.example"
    settings.TANDEM_INBOUND_TRUSTED_AUTHSERV_IDS = [TRUSTED]


@pytest.fixture
def it_step(requester, it_reviewer, procurement):
    purchase_request = workflow.submit_request(
        PurchaseRequestFactory(requester=requester), by=requester
    )
    return purchase_request.steps.get(side="it", round=1)


# What changes between getting a way in and using it. Each returns the person who decides and
# runs `change` after their session, link, reply address and Slack account exist.


def member(it_reviewer):
    return it_reviewer, it_reviewer


def delegate(it_reviewer):
    """Dora holds Ivan's IT rights by an out-of-office delegation open now."""
    dora = UserFactory(username="dora")
    now = timezone.now()
    Delegation.objects.create(
        delegator=it_reviewer,
        delegate=dora,
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=7),
    )
    return dora, it_reviewer


def nothing(actor, principal):
    pass


def deactivated(actor, principal):
    accounts_services.deactivate_user(actor)


def left_the_group(actor, principal):
    principal.groups.remove(Group.objects.get(name=roles.IT_REVIEWERS))


def delegation_ended(actor, principal):
    accounts_services.end_delegation(Delegation.objects.get(delegate=actor))


def delegator_deactivated(actor, principal):
    accounts_services.deactivate_user(principal)


def delegator_switched_off_in_the_database(actor, principal):
    """Switched off without the leaving service (a bulk update, an import): the delegation is
    still open, and still gives nothing."""
    type(principal).objects.filter(pk=principal.pk).update(is_active=False)


# (who, what changed, decides?, what the person is told when still reachable)
CASES = [
    pytest.param(member, nothing, True, "", id="member-active"),
    pytest.param(member, deactivated, False, INACTIVE, id="member-deactivated"),
    pytest.param(member, left_the_group, False, NOT_IN_GROUP, id="member-left-the-group"),
    pytest.param(delegate, nothing, True, "", id="delegate-open"),
    pytest.param(delegate, deactivated, False, INACTIVE, id="delegate-deactivated"),
    pytest.param(delegate, delegation_ended, False, NOT_IN_GROUP, id="delegation-ended"),
    pytest.param(delegate, left_the_group, False, NOT_IN_GROUP, id="delegator-left-the-group"),
    pytest.param(delegate, delegator_deactivated, False, NOT_IN_GROUP, id="delegator-left"),
    pytest.param(
        delegate,
        delegator_switched_off_in_the_database,
        False,
        NOT_IN_GROUP,
        id="delegator-switched-off",
    ),
]


# The paths. Each gets its way in before the change (`prepare`) and decides after it (`use`),
# returning what the person was told: None where they are no longer signed in, or may no
# longer even see the request (a 404, which says nothing about it).


def told_on_page(response):
    assert response.status_code < 500
    if response.status_code == 404:
        return None
    if response.redirect_chain and "/accounts/login/" in response.redirect_chain[-1][0]:
        return None
    return response.content.decode()


class Page:
    def prepare(self, client, actor, step):
        client.force_login(actor)

    def use(self, client, actor, step):
        response = client.post(
            f"/approvals/steps/{step.pk}/approve/", {"comment": "fine"}, follow=True
        )
        return told_on_page(response)


class Api:
    def prepare(self, client, actor, step):
        client.force_login(actor)

    def use(self, client, actor, step):
        response = client.post(
            f"/api/steps/{step.pk}/approve/", {}, content_type="application/json"
        )
        assert response.status_code in (200, 401, 403, 404), response.content
        if response.status_code in (401, 404):
            return None
        return response.json().get("detail", "")


class EmailLink:
    def prepare(self, client, actor, step):
        client.force_login(actor)
        self.token = reach_services.issue_token(actor, step, TokenKind.LINK)

    def use(self, client, actor, step):
        response = client.post(f"/decide/{self.token}/", {"decision": "approve"}, follow=True)
        return told_on_page(response)


class EmailReply:
    def prepare(self, client, actor, step):
        self.token = reach_services.issue_token(actor, step, TokenKind.REPLY)

    def use(self, client, actor, step):
        message = EmailMessage()
        message["From"] = actor.email
        message["To"] = f"decide+{self.token}@reply.tandem.example"
        message["Subject"] = "Re: For your decision"
        message["Message-ID"] = f"<reply-{actor.pk}-{step.pk}@tandem.example>"
        message["Authentication-Results"] = (
            f"{TRUSTED}; spf=pass smtp.mailfrom=tandem.example; dmarc=pass "
            "header.from=tandem.example"
        )
        message.set_content("approve\n")
        return inbound.handle(message.as_bytes())


class Slack:
    def prepare(self, client, actor, step):
        SlackAccount.objects.create(user=actor, slack_user_id=f"U{actor.pk}")

    def use(self, client, actor, step):
        payload = {
            "type": "block_actions",
            "user": {"id": f"U{actor.pk}"},
            "trigger_id": "trigger-1",
            "channel": {"id": f"DU{actor.pk}"},
            "actions": [
                {"action_id": "approve", "value": str(step.pk), "block_id": f"decide:{step.pk}"}
            ],
        }
        body = interaction_body(payload)
        response = client.post(
            "/api/slack/interactivity/",
            body,
            content_type="application/x-www-form-urlencoded",
            **signed_headers(body),
        )
        assert response.status_code == 200
        return self.slack.called("chat.postEphemeral")[-1]["text"]


PATHS = [
    pytest.param(Page, id="page"),
    pytest.param(Api, id="api"),
    pytest.param(EmailLink, id="email-link"),
    pytest.param(EmailReply, id="email-reply"),
    pytest.param(Slack, id="slack"),
]


@pytest.mark.parametrize(("who", "change", "decides", "told"), CASES)
@pytest.mark.parametrize("path", PATHS)
def test_every_path_decides_only_with_the_right_held_at_the_moment_of_deciding(
    client, slack, it_step, it_reviewer, path, who, change, decides, told
):
    actor, principal = who(it_reviewer)
    way_in = path()
    way_in.slack = slack
    way_in.prepare(client, actor, it_step)

    change(actor, principal)
    answer = way_in.use(client, actor, it_step)

    it_step.refresh_from_db()
    decisions = AuditEvent.objects.filter(kind="step_approve", payload__step=it_step.pk)
    if decides:
        assert it_step.state == StepState.APPROVED
        assert it_step.decided_by == actor
        assert decisions.count() == 1
    else:
        assert it_step.state == StepState.OPEN
        assert not decisions.exists()
        # Whoever can still be told is told why, in the policy's words; nobody is told "Done".
        if answer is not None:
            assert told in answer.replace("&#x27;", "'")
            assert "Done" not in answer


@pytest.mark.parametrize(("who", "change", "decides", "told"), CASES)
def test_the_queue_and_the_policy_agree_after_every_change(
    it_step, it_reviewer, who, change, decides, told
):
    """What the lists offer (`decidable_steps`) is what the policy allows, after each change."""
    actor, principal = who(it_reviewer)
    change(actor, principal)
    actor = type(actor).objects.get(pk=actor.pk)
    assert policies.can_decide(actor, it_step).allowed is decides
    assert policies.decidable_steps(actor).filter(pk=it_step.pk).exists() is decides


# Second opinions: only the colleague asked answers, and only while they may still be asked.


def answer_on_page(client, consultation):
    response = client.post(
        f"/approvals/consultations/{consultation.pk}/answer/", {"answer": "Looks fine"}, follow=True
    )
    return told_on_page(response)


def answer_by_api(client, consultation):
    response = client.post(
        f"/api/consultations/{consultation.pk}/answer/",
        {"answer": "Looks fine"},
        content_type="application/json",
    )
    assert response.status_code in (200, 401, 403, 404), response.content
    return None if response.status_code in (401, 404) else response.content.decode()


def colleague_left_every_group(colleague):
    colleague.groups.clear()


@pytest.mark.parametrize(
    ("change", "answers", "told"),
    [
        pytest.param(lambda colleague: None, True, "", id="active"),
        pytest.param(accounts_services.deactivate_user, False, INACTIVE, id="deactivated"),
        pytest.param(
            colleague_left_every_group, False, "not a reviewer or leader", id="left-the-group"
        ),
    ],
)
@pytest.mark.parametrize("path", [answer_on_page, answer_by_api], ids=["page", "api"])
def test_a_second_opinion_is_answered_only_by_a_colleague_who_still_may(
    client, it_step, it_reviewer, path, change, answers, told
):
    colleague = UserFactory(username="irene", roles=[roles.IT_REVIEWERS])
    consultation = approval_services.ask_colleague(
        it_step, by=it_reviewer, colleague=colleague, question="Is the DPA enough?"
    )
    client.force_login(colleague)

    change(colleague)
    answer = path(client, consultation)

    consultation = Consultation.objects.get(pk=consultation.pk)
    assert consultation.is_answered is answers
    if not answers and answer is not None and told:
        assert told in answer.replace("&#x27;", "'")
