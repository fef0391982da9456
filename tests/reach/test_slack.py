"""Slack (SPEC §8a) against a local stand-in for Slack's Web API (tests/support/fake_slack.py)
with payloads signed as Slack signs them: a signed click by a reviewer the policy allows
decides once; an unsigned, stale, altered or wrong-user click decides nothing."""

import json
import time
from datetime import UTC, datetime

import pytest
import time_machine

from accounts import roles
from approvals.models import StepState
from audit.models import AuditEvent
from tests.factories import UserFactory
from tests.support.fake_slack import (
    BOT_TOKEN,
    SIGNING_SECRET,
    FakeSlack,
    interaction_body,
    signed_headers,
)

pytestmark = pytest.mark.django_db

URL = "/api/slack/interactivity/"


@pytest.fixture
def slack(settings):
    fake = FakeSlack(
        {
            "ivan@tandem.example": "UIVAN",
            "iris@tandem.example": "UIRIS",
            "paul@tandem.example": "UPAUL",
            "rita@tandem.example": "URITA",
        }
    ).start()
    settings.TANDEM_SLACK_BOT_TOKEN = BOT_TOKEN
    settings.TANDEM_SLACK_SIGNING_SECRET = SIGNING_SECRET
    settings.TANDEM_SLACK_API_URL = fake.url
    yield fake
    fake.stop()


def decisions(step) -> int:
    return AuditEvent.objects.filter(kind__startswith="step_", payload__step=step.pk).count()


def click(step, action="approve", user="UIVAN"):
    return {
        "type": "block_actions",
        "user": {"id": user},
        "trigger_id": "trigger-1",
        "channel": {"id": f"D{user}"},
        "actions": [{"action_id": action, "value": str(step.pk), "block_id": f"decide:{step.pk}"}],
    }


def post(client, payload, **signing):
    body = interaction_body(payload)
    headers = signed_headers(body, **signing) if signing.get("secret", True) else {}
    return client.post(URL, body, content_type="application/x-www-form-urlencoded", **headers)


def test_a_signed_click_decides_once_as_the_mapped_user(client, slack, it_step, it_reviewer):
    response = post(client, click(it_step))
    assert response.status_code == 200
    it_step.refresh_from_db()
    assert it_step.state == StepState.APPROVED and it_step.decided_by == it_reviewer
    assert decisions(it_step) == 1
    [told] = slack.called("chat.postEphemeral")
    assert told["user"] == "UIVAN" and "You approved" in told["text"]
    # Clicked again (or Slack retries): the step is closed, nothing more is decided.
    post(client, click(it_step))
    assert decisions(it_step) == 1
    assert "already approved" in slack.called("chat.postEphemeral")[-1]["text"]


def test_an_unsigned_click_decides_nothing(client, slack, it_step, it_reviewer):
    body = interaction_body(click(it_step))
    response = client.post(URL, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 401
    it_step.refresh_from_db()
    assert it_step.state == StepState.OPEN and slack.calls == []


def test_a_stale_click_decides_nothing(client, slack, it_step, it_reviewer):
    response = post(client, click(it_step), at=int(time.time()) - 6 * 60)
    assert response.status_code == 401
    it_step.refresh_from_db()
    assert it_step.state == StepState.OPEN


def test_a_click_signed_with_another_secret_decides_nothing(client, slack, it_step, it_reviewer):
    response = post(client, click(it_step), secret="not-the-secret")
    assert response.status_code == 401
    it_step.refresh_from_db()
    assert it_step.state == StepState.OPEN


def test_an_altered_payload_decides_nothing(client, slack, it_step, it_reviewer):
    body = interaction_body(click(it_step, user="UPAUL"))
    headers = signed_headers(body)
    altered = interaction_body(click(it_step, user="UIVAN"))
    response = client.post(
        URL, altered, content_type="application/x-www-form-urlencoded", **headers
    )
    assert response.status_code == 401
    it_step.refresh_from_db()
    assert it_step.state == StepState.OPEN


@pytest.mark.parametrize("timestamp", ["", "soon", "１２３", "-1", "9" * 40])
def test_a_malformed_timestamp_is_refused(client, slack, it_step, timestamp):
    body = interaction_body(click(it_step))
    headers = {**signed_headers(body), "HTTP_X_SLACK_REQUEST_TIMESTAMP": timestamp}
    response = client.post(URL, body, content_type="application/x-www-form-urlencoded", **headers)
    assert response.status_code == 401


def test_a_click_by_someone_the_policy_refuses_decides_nothing(
    client, slack, it_step, it_reviewer, procurement
):
    post(client, click(it_step, user="UPAUL"))
    it_step.refresh_from_db()
    assert it_step.state == StepState.OPEN and decisions(it_step) == 0
    [told] = slack.called("chat.postEphemeral")
    assert told["user"] == "UPAUL" and "Nothing was decided" in told["text"]


def test_the_requester_cannot_decide_from_slack(client, slack, it_step, requester):
    requester.groups.add(*UserFactory(roles=[roles.IT_REVIEWERS]).groups.all())
    post(client, click(it_step, user="URITA"))
    it_step.refresh_from_db()
    assert it_step.state == StepState.OPEN
    assert "requester never decides" in slack.called("chat.postEphemeral")[0]["text"]


def test_a_slack_user_unknown_to_tandem_decides_nothing(client, slack, it_step, it_reviewer):
    post(client, click(it_step, user="USTRANGER"))
    it_step.refresh_from_db()
    assert it_step.state == StepState.OPEN
    assert "not linked" in slack.called("chat.postEphemeral")[0]["text"]


def test_reject_asks_the_reason_in_a_modal_then_decides(client, slack, it_step, it_reviewer):
    assert post(client, click(it_step, action="reject")).status_code == 200
    it_step.refresh_from_db()
    assert it_step.state == StepState.OPEN  # the button alone decides nothing
    [opened] = slack.called("views.open")
    view = opened["view"]
    assert opened["trigger_id"] == "trigger-1" and view["callback_id"] == "tandem_decision_reason"

    def submit(reason):
        return post(
            client,
            {
                "type": "view_submission",
                "user": {"id": "UIVAN"},
                "view": {
                    "callback_id": view["callback_id"],
                    "private_metadata": view["private_metadata"],
                    "state": {"values": {"reason": {"reason_input": {"value": reason}}}},
                },
            },
        )

    refused = submit("  ")
    assert refused.json()["response_action"] == "errors"
    assert "comment is required" in refused.json()["errors"]["reason"]
    it_step.refresh_from_db()
    assert it_step.state == StepState.OPEN

    assert submit("No budget").status_code == 200
    it_step.refresh_from_db()
    assert (it_step.state, it_step.comment) == (StepState.REJECTED, "No budget")
    assert decisions(it_step) == 1


def test_request_changes_through_the_modal(client, slack, it_step, it_reviewer):
    post(client, click(it_step, action="request_changes"))
    view = slack.called("views.open")[0]["view"]
    assert json.loads(view["private_metadata"])["decision"] == "request_changes"


def test_without_a_slack_app_the_endpoint_is_not_there(client, it_step, settings):
    settings.TANDEM_SLACK_BOT_TOKEN = ""
    response = post(client, click(it_step))
    assert response.status_code == 404


@pytest.mark.parametrize("payload", ["not json", "[1, 2]", ""])
def test_a_signed_but_malformed_payload_is_refused(client, slack, payload):
    body = f"payload={payload}".encode()
    response = client.post(
        URL, body, content_type="application/x-www-form-urlencoded", **signed_headers(body)
    )
    assert response.status_code == 400


IVAN = {"id": "UIVAN"}
ODD_PAYLOADS = [
    {"type": "block_actions", "user": IVAN, "actions": []},
    {
        "type": "block_actions",
        "user": IVAN,
        "actions": [{"action_id": "approve", "value": "9" * 20}],
    },
    {"type": "block_actions", "user": IVAN, "actions": [{"action_id": "drop", "value": "1"}]},
    {
        "type": "view_submission",
        "user": IVAN,
        "view": {"callback_id": "tandem_decision_reason", "private_metadata": "{nope"},
    },
    {"type": "shortcut"},
]


@pytest.mark.parametrize("payload", ODD_PAYLOADS)
def test_odd_signed_payloads_decide_nothing_and_never_fail(client, slack, it_step, payload):
    response = post(client, payload)
    assert response.status_code == 200
    it_step.refresh_from_db()
    assert it_step.state == StepState.OPEN


def test_the_answer_says_when_in_the_reviewers_time_zone(client, slack, it_step, it_reviewer):
    it_reviewer.time_zone = "Europe/Berlin"
    it_reviewer.save()
    with time_machine.travel(datetime(2026, 12, 1, 9, 5, tzinfo=UTC), tick=False):
        post(client, click(it_step))
    [told] = slack.called("chat.postEphemeral")
    assert told["text"].endswith(", 1 Dec 2026, 10:05 CET.")


def test_a_slack_user_unknown_to_tandem_gets_no_reason_form(client, slack, it_step, it_reviewer):
    """The form would show the request's title: a stranger sees nothing of it."""
    post(client, click(it_step, action="reject", user="USTRANGER"))
    assert slack.called("views.open") == []
    assert "not linked" in slack.called("chat.postEphemeral")[0]["text"]
