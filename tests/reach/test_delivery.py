"""What reaches the reviewer: the "for your decision" e-mail carries a personal decision link
and reply-to address (to reviewers who may decide, never to others); with a Slack app it also
goes to each reviewer's Slack DM with buttons, once; and after a decision every reviewer's
Slack message of the step says who decided."""

import re

import pytest
from django.core import mail

from accounts import roles
from approvals import workflow
from approvals.models import StepState
from notifications.models import Channel, Notification, Status
from notifications.services import deliver
from reach.models import DecisionToken, SlackMessage, TokenKind
from tests.factories import PurchaseRequestFactory, UserFactory
from tests.support.fake_slack import (
    BOT_TOKEN,
    SIGNING_SECRET,
    FakeSlack,
    interaction_body,
    signed_headers,
)

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://127\.0\.0\.1:8000(/decide/[\w-]+/)")


@pytest.fixture
def slack(settings):
    fake = FakeSlack(
        {
            "ivan@tandem.example": "UIVAN",
            "iris@tandem.example": "UIRIS",
            "paul@tandem.example": "UPAUL",
        }
    ).start()
    settings.TANDEM_SLACK_BOT_TOKEN = BOT_TOKEN
    settings.TANDEM_SLACK_SIGNING_SECRET = SIGNING_SECRET
    settings.TANDEM_SLACK_API_URL = fake.url
    yield fake
    fake.stop()


@pytest.fixture
def reviewers(it_reviewer, procurement):
    return {
        "ivan": it_reviewer,
        "iris": UserFactory(username="iris", roles=[roles.IT_REVIEWERS]),
        "paul": procurement,
    }


@pytest.fixture
def submit(requester, django_capture_on_commit_callbacks, settings):
    settings.TANDEM_INBOUND_ADDRESS = "decide@reply.tandem.example"

    def submit():
        purchase_request = PurchaseRequestFactory(requester=requester, title="Figma seats")
        with django_capture_on_commit_callbacks(execute=True):
            workflow.submit_request(purchase_request, by=requester)
        return purchase_request

    return submit


def decision_mail(user):
    [message] = [
        m for m in mail.outbox if m.to == [user.email] and m.subject.startswith("For your decision")
    ]
    return message


def test_the_email_carries_a_personal_link_and_reply_address(client, reviewers, submit):
    purchase_request = submit()
    ivan = reviewers["ivan"]
    message = decision_mail(ivan)
    link = LINK.search(message.body).group(1)
    assert re.fullmatch(r"decide\+[\w-]{43}@reply\.tandem\.example", message.reply_to[0])
    assert '"approve", "reject: <reason>" or "changes: <reason>"' in message.body
    html = message.alternatives[0][0]
    assert link in html and "Decide here" in html
    # Only hashes are stored; each reviewer has their own link and reply address.
    assert DecisionToken.objects.filter(user=ivan, kind=TokenKind.LINK).count() == 1
    assert DecisionToken.objects.filter(user=ivan, kind=TokenKind.REPLY).count() == 1
    assert link != LINK.search(decision_mail(reviewers["iris"]).body).group(1)
    stored = Notification.objects.get(recipient=ivan, channel=Channel.EMAIL)
    assert "/decide/" not in stored.body  # the outbox keeps no token

    client.force_login(ivan)
    assert client.post(link, {"decision": "approve"}).status_code == 302
    step = purchase_request.steps.get(side="it")
    assert (step.state, step.decided_by) == (StepState.APPROVED, ivan)


def test_no_link_for_someone_the_policy_would_refuse(requester, reviewers, submit):
    requester.groups.add(*reviewers["ivan"].groups.all())  # the requester in the IT group
    submit()
    assert not DecisionToken.objects.filter(user=requester).exists()
    assert all("/decide/" not in m.body for m in mail.outbox if m.to == [requester.email])


def test_without_a_reply_address_only_the_link(
    reviewers, requester, settings, django_capture_on_commit_callbacks
):
    settings.TANDEM_INBOUND_ADDRESS = ""
    with django_capture_on_commit_callbacks(execute=True):
        workflow.submit_request(PurchaseRequestFactory(requester=requester), by=requester)
    message = decision_mail(reviewers["ivan"])
    assert message.reply_to == [] and "/decide/" in message.body
    assert "reply to this e-mail" not in message.body


def test_slack_gets_each_reviewer_one_message_with_buttons(slack, reviewers, submit):
    purchase_request = submit()
    posted = slack.called("chat.postMessage")
    assert sorted(p["channel"] for p in posted) == ["DUIRIS", "DUIVAN", "DUPAUL"]
    ivan_message = next(p for p in posted if p["channel"] == "DUIVAN")
    [actions] = [b for b in ivan_message["blocks"] if b["type"] == "actions"]
    it_step = purchase_request.steps.get(side="it")
    assert [(e["action_id"], e["value"]) for e in actions["elements"]] == [
        ("approve", str(it_step.pk)),
        ("request_changes", str(it_step.pk)),
        ("reject", str(it_step.pk)),
    ]
    assert "Figma seats" in ivan_message["text"]
    assert {c["email"] for c in slack.called("users.lookupByEmail")} >= {"ivan@tandem.example"}
    assert SlackMessage.objects.count() == 3

    # A retried delivery (the worker died after posting) posts nothing more.
    slack_row = Notification.objects.get(recipient=reviewers["ivan"], channel=Channel.SLACK)
    Notification.objects.filter(pk=slack_row.pk).update(status=Status.PENDING)
    assert deliver(slack_row.pk)
    assert len(slack.called("chat.postMessage")) == 3


def test_a_reviewer_not_on_slack_is_left_to_email(slack, reviewers, submit, requester):
    UserFactory(username="olga", roles=[roles.PROCUREMENT])  # no Slack account
    submit()
    assert (
        Notification.objects.get(recipient__username="olga", channel=Channel.SLACK).status
        == Status.SENT
    )
    assert not SlackMessage.objects.filter(user__username="olga").exists()


def test_after_a_decision_every_reviewers_message_shows_who_decided(
    client, slack, reviewers, submit, django_capture_on_commit_callbacks
):
    purchase_request = submit()
    it_step = purchase_request.steps.get(side="it")
    payload = {
        "type": "block_actions",
        "user": {"id": "UIVAN"},
        "channel": {"id": "DUIVAN"},
        "actions": [{"action_id": "approve", "value": str(it_step.pk)}],
    }
    body = interaction_body(payload)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/slack/interactivity/",
            body,
            content_type="application/x-www-form-urlencoded",
            **signed_headers(body),
        )
    assert response.status_code == 200
    it_step.refresh_from_db()
    assert it_step.state == StepState.APPROVED
    updates = slack.called("chat.update")
    posted = {p["channel"]: p for p in slack.called("chat.postMessage")}
    assert sorted(u["channel"] for u in updates) == ["DUIRIS", "DUIVAN"]  # not Paul's step
    for update in updates:
        assert update["ts"] == SlackMessage.objects.get(channel=update["channel"]).ts
        assert f"{reviewers['ivan']} approved" in update["text"]
        assert not [b for b in update["blocks"] if b["type"] == "actions"]  # no buttons left
    assert posted["DUPAUL"]
