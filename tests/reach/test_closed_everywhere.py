"""Closed means closed everywhere (issue 27 §6): whatever closes a step (a decision from the
page, the API, an e-mail link or Slack, the decision that ends its round, a withdrawal from
the page or the API, a vendor review's end), every reviewer's Slack message of it loses its
buttons and says how it closed (chat.update, after the commit), its in-app notices are done,
and a click on a button left behind decides nothing and says why. Slack is the local stand-in
for its Web API (tests/support/fake_slack.py): the official client really talks HTTP."""

from email.message import EmailMessage

import pytest

from accounts import roles
from approvals import workflow
from approvals.models import ApprovalStep, StepState
from notifications.models import Channel, Notification
from reach import inbound, services
from reach.models import SlackMessage, TokenKind
from tests.factories import PurchaseRequestFactory, UserFactory, VendorFactory
from tests.support.fake_slack import (
    BOT_TOKEN,
    SIGNING_SECRET,
    FakeSlack,
    interaction_body,
    signed_headers,
)

pytestmark = pytest.mark.django_db


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
def people(requester, it_reviewer, procurement):
    return {
        "rita": requester,
        "ivan": it_reviewer,
        "iris": UserFactory(username="iris", roles=[roles.IT_REVIEWERS]),
        "paul": procurement,
    }


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Runs `action` and what its transaction enqueues after the commit (deliveries, Slack
    updates), as the worker would."""

    def run(action, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return action(*args, **kwargs)

    return run


@pytest.fixture
def in_review(people, committed, slack):
    """A request in review whose three reviewers each got a Slack message with buttons."""
    purchase_request = PurchaseRequestFactory(requester=people["rita"], title="Figma seats")
    committed(workflow.submit_request, purchase_request, by=people["rita"])
    assert SlackMessage.objects.count() == 3
    return purchase_request


def signed_click(client, step, *, user, action="approve"):
    payload = {
        "type": "block_actions",
        "user": {"id": user},
        "trigger_id": "trigger-1",
        "channel": {"id": f"D{user}"},
        "actions": [{"action_id": action, "value": str(step.pk)}],
    }
    body = interaction_body(payload)
    return client.post(
        "/api/slack/interactivity/",
        body,
        content_type="application/x-www-form-urlencoded",
        **signed_headers(body),
    )


def step(request, side: str) -> ApprovalStep:
    return request.steps.get(side=side, round=request.steps.order_by("-round")[0].round)


# Each way a step closes: (what to do, the steps that close, how their messages say it closed).
def approve_on_the_page(client, api, people, request):
    client.force_login(people["ivan"])
    return client.post(f"/approvals/steps/{step(request, 'it').pk}/approve/")


def approve_through_the_api(client, api, people, request):
    return api.as_user(people["ivan"]).post(f"/api/steps/{step(request, 'it').pk}/approve/")


def approve_by_email_link(client, api, people, request):
    token = services.issue_token(people["ivan"], step(request, "it"), TokenKind.LINK)
    client.force_login(people["ivan"])
    return client.post(f"/decide/{token}/", {"decision": "approve"})


def approve_in_slack(client, api, people, request):
    return signed_click(client, step(request, "it"), user="UIVAN")


def reject_through_the_api(client, api, people, request):
    return api.as_user(people["ivan"]).post(
        f"/api/steps/{step(request, 'it').pk}/reject/", {"comment": "No budget"}, format="json"
    )


def ask_for_changes_on_the_page(client, api, people, request):
    client.force_login(people["paul"])
    return client.post(
        f"/approvals/steps/{step(request, 'procurement').pk}/request-changes/",
        {"comment": "Attach the quote"},
    )


def withdraw_on_the_page(client, api, people, request):
    client.force_login(people["rita"])
    return client.post(f"/requests/{request.pk}/withdraw/")


def withdraw_through_the_api(client, api, people, request):
    return api.as_user(people["rita"]).post(f"/api/requests/{request.pk}/withdraw/")


IT_APPROVED = ({"it": "{ivan} approved"}, ["DUIVAN", "DUIRIS"])
CLOSING = [
    pytest.param(approve_on_the_page, *IT_APPROVED, id="approved on the page"),
    pytest.param(approve_through_the_api, *IT_APPROVED, id="approved through the API"),
    pytest.param(approve_by_email_link, *IT_APPROVED, id="approved by e-mail link"),
    pytest.param(approve_in_slack, *IT_APPROVED, id="approved in Slack"),
    pytest.param(
        reject_through_the_api,
        {"it": "{ivan} rejected it", "procurement": "Closed: {ivan} rejected the IT review step"},
        ["DUIVAN", "DUIRIS", "DUPAUL"],
        id="rejected, closing the other side",
    ),
    pytest.param(
        ask_for_changes_on_the_page,
        {
            "procurement": "{paul} asked for changes",
            "it": "Closed: {paul} asked for changes at the Procurement step",
        },
        ["DUIVAN", "DUIRIS", "DUPAUL"],
        id="changes requested, closing the other side",
    ),
    pytest.param(
        withdraw_on_the_page,
        {
            "it": "Closed: {rita} withdrew the request",
            "procurement": "Closed: {rita} withdrew the request",
        },
        ["DUIVAN", "DUIRIS", "DUPAUL"],
        id="withdrawn on the page",
    ),
    pytest.param(
        withdraw_through_the_api,
        {
            "it": "Closed: {rita} withdrew the request",
            "procurement": "Closed: {rita} withdrew the request",
        },
        ["DUIVAN", "DUIRIS", "DUPAUL"],
        id="withdrawn through the API",
    ),
]


@pytest.mark.parametrize("close, notes, updated", CLOSING)
def test_every_slack_message_of_a_closed_step_says_how_it_closed(
    client, api, slack, people, in_review, committed, close, notes, updated
):
    response = committed(close, client, api, people, in_review)
    assert response.status_code in (200, 302), response.content
    notes = {side: note.format(**people) for side, note in notes.items()}
    updates = slack.called("chat.update")
    assert sorted(u["channel"] for u in updates) == sorted(updated)
    for update in updates:
        message = SlackMessage.objects.select_related("step").get(channel=update["channel"])
        assert message.step.state not in (StepState.OPEN, StepState.WAITING)
        assert update["ts"] == message.ts
        assert notes[message.step.side] in update["text"]
        assert not [b for b in update["blocks"] if b["type"] == "actions"]  # no buttons left
        # The in-app notices of the step say the same, for everyone it asked.
        in_app = Notification.objects.filter(
            channel=Channel.IN_APP, topic=f"step:{message.step_id}"
        )
        assert set(in_app.values_list("done_note", flat=True)) == {notes[message.step.side]}
    # The messages of steps still open keep their buttons.
    for message in SlackMessage.objects.exclude(channel__in=updated):
        assert message.step.state == StepState.OPEN and message.settled_note == ""


def test_a_button_left_after_a_withdrawal_decides_nothing_and_says_so(
    client, slack, people, in_review, committed
):
    it_step = step(in_review, "it")
    committed(workflow.withdraw_request, in_review, by=people["rita"])
    for action in ("approve", "reject"):  # reject would ask its reason first: it does not
        assert signed_click(client, it_step, user="UIRIS", action=action).status_code == 200
    told = [m["text"] for m in slack.called("chat.postEphemeral")]
    withdrew = f"{people['rita']} withdrew the request"
    assert told == [f"Nothing was decided: This step is already closed: {withdrew}."] * 2
    assert slack.called("views.open") == []
    it_step.refresh_from_db()
    assert it_step.state == StepState.SUPERSEDED and it_step.decided_by is None


def test_a_lost_update_is_made_when_a_button_is_clicked(
    client, slack, people, in_review, committed, settings
):
    """The Slack app was off when the step closed (or the update never reached Slack): the
    click that finds the step closed settles the messages."""
    it_step = step(in_review, "it")
    settings.TANDEM_SLACK_BOT_TOKEN = ""
    committed(workflow.withdraw_request, in_review, by=people["rita"])
    settings.TANDEM_SLACK_BOT_TOKEN = BOT_TOKEN
    assert slack.called("chat.update") == []
    committed(signed_click, client, it_step, user="UIVAN")
    assert sorted(u["channel"] for u in slack.called("chat.update")) == ["DUIRIS", "DUIVAN"]


def test_after_a_resubmit_the_old_rounds_messages_are_closed_and_the_new_ones_live(
    client, slack, people, in_review, committed
):
    committed(ask_for_changes_on_the_page, client, None, people, in_review)
    client.force_login(people["rita"])
    assert committed(client.post, f"/requests/{in_review.pk}/resubmit/").status_code == 302
    old = SlackMessage.objects.filter(step__round=1)
    new = SlackMessage.objects.filter(step__round=2)
    assert old.count() == 3 and new.count() == 3
    assert set(old.values_list("settled_note", flat=True)) == {
        f"{people['paul']} asked for changes",
        f"Closed: {people['paul']} asked for changes at the Procurement step",
    }
    assert sorted(u["ts"] for u in slack.called("chat.update")) == sorted(
        old.values_list("ts", flat=True)
    )
    assert set(new.values_list("settled_note", flat=True)) == {""}


def test_a_vendor_review_ended_by_one_side_closes_the_others_message(
    client, slack, people, committed
):
    vendor = VendorFactory(status="prospective", name="Acme Analytics")
    committed(workflow.start_review, vendor, by=people["paul"])
    assert SlackMessage.objects.count() == 3
    it_step = vendor.steps.get(side="it")
    client.force_login(people["ivan"])
    committed(client.post, f"/approvals/steps/{it_step.pk}/reject/", {"comment": "Failed security"})
    [paul] = [u for u in slack.called("chat.update") if u["channel"] == "DUPAUL"]
    assert f"Closed: {people['ivan']} rejected the IT review step" in paul["text"]
    assert len(slack.called("chat.update")) == 3


def decide_on_the_page(client, api, slack, people, step):
    client.force_login(people["ivan"])
    return client.post(f"/approvals/steps/{step.pk}/approve/", follow=True).content.decode()


def decide_through_the_api(client, api, slack, people, step):
    response = api.as_user(people["ivan"]).post(f"/api/steps/{step.pk}/approve/")
    assert response.status_code == 409
    return response.json()["detail"]


def decide_by_email_link(client, api, slack, people, step):
    token = services.issue_token(people["ivan"], step, TokenKind.LINK)
    client.force_login(people["ivan"])
    response = client.post(f"/decide/{token}/", {"decision": "approve"})
    assert response.status_code == 410
    return response.content.decode()


def decide_by_reply(client, api, slack, people, step):
    token = services.issue_token(people["ivan"], step, TokenKind.REPLY)
    message = EmailMessage()
    message["From"] = people["ivan"].email
    message["To"] = f"decide+{token}@reply.tandem.example"
    message["Message-ID"] = "<late-reply@tandem.example>"
    message["Authentication-Results"] = "mx.tandem.example; dmarc=pass"
    message.set_content("approve")
    return inbound.handle(bytes(message))


def decide_in_slack(client, api, slack, people, step):
    signed_click(client, step, user="UIVAN")
    return slack.called("chat.postEphemeral")[-1]["text"]


@pytest.mark.parametrize(
    "decide",
    [decide_on_the_page, decide_through_the_api, decide_by_email_link, decide_by_reply,
     decide_in_slack],
)  # fmt: skip
def test_after_a_withdrawal_every_way_to_decide_says_so(
    client, api, slack, people, in_review, committed, settings, decide
):
    settings.TANDEM_INBOUND_ADDRESS = "decide@reply.tandem.example"
    settings.TANDEM_INBOUND_TRUSTED_AUTHSERV_IDS = ["mx.tandem.example"]
    it_step = step(in_review, "it")
    committed(workflow.withdraw_request, in_review, by=people["rita"])
    answer = decide(client, api, slack, people, it_step)
    assert f"already closed: {people['rita']} withdrew the request" in answer
    it_step.refresh_from_db()
    assert it_step.state == StepState.SUPERSEDED and it_step.decided_by is None


def test_a_stranger_clicking_a_closed_steps_button_learns_nothing(
    client, slack, people, in_review, committed
):
    it_step = step(in_review, "it")
    committed(workflow.withdraw_request, in_review, by=people["rita"])
    signed_click(client, it_step, user="USTRANGER", action="reject")
    [told] = slack.called("chat.postEphemeral")
    assert "not linked" in told["text"] and str(people["rita"]) not in told["text"]
