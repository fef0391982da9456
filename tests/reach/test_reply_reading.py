"""E-mail replies are read as people write them (issue 27 §7): the decision's comment is what
the reviewer wrote, without their signature or the quoted original, whatever their mail client
(by the reply parser mail-parser-reply); a refused reply is answered in words about replies,
not links; times in the answer read in the reviewer's time zone; and every e-mail about a
request has its amount and its link at the top, above the "-- " signature line.

Replies go through `inbound.handle`, the receiver's hand-over (tests/reach/test_replies.py
drives the SMTP receiver itself)."""

from datetime import datetime, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from approvals import workflow
from approvals.models import StepState
from approvals.reminders import sweep_due_steps
from approvals.services import decide_step
from reach import inbound, services
from reach.models import TokenKind
from tests.factories import PurchaseRequestFactory

pytestmark = pytest.mark.django_db

TRUSTED = "mx.tandem.example"
QUOTED_ORIGINAL = "For your decision: PR-2099-00001 Figma seats\nAmount: 1,000.00 EUR"


@pytest.fixture(autouse=True)
def _inbound(settings):
    settings.TANDEM_INBOUND_ADDRESS = "decide@reply.tandem.example"
    settings.TANDEM_INBOUND_TRUSTED_AUTHSERV_IDS = [TRUSTED]


def reply(token, body: str, *, message_id="<reply-1@tandem.example>") -> str:
    message = EmailMessage()
    message["From"] = "Ivan Novak <ivan@tandem.example>"
    message["To"] = f"decide+{token}@reply.tandem.example"
    message["Subject"] = "Re: For your decision: PR-2099-00001 Figma seats"
    message["Message-ID"] = message_id
    message["Authentication-Results"] = f"{TRUSTED}; dmarc=pass header.from=tandem.example"
    message.set_content(body)
    return inbound.handle(bytes(message))


def quoted(text: str) -> str:
    return "\n".join(f"> {line}" for line in text.splitlines())


GMAIL = (
    f"On Mon, 7 Dec 2026 at 09:05, Tandem <decide@tandem.example> wrote:\n{quoted(QUOTED_ORIGINAL)}"
)
GMAIL_WRAPPED = (
    "On Mon, 7 Dec 2026 at 09:05, Tandem IT purchase requests\n<decide@tandem.example> wrote:\n\n"
    + quoted(QUOTED_ORIGINAL)
)
GMAIL_GERMAN = (
    "Am Mo., 7. Dez. 2026 um 09:05 Uhr schrieb Tandem <decide@tandem.example>:\n"
    + quoted(QUOTED_ORIGINAL)
)
OUTLOOK_ORIGINAL = (
    "-----Original Message-----\nFrom: Tandem <decide@tandem.example>\n"
    "Sent: Monday, December 7, 2026 9:05 AM\nTo: Ivan Novak <ivan@tandem.example>\n"
    f"Subject: For your decision: PR-2099-00001 Figma seats\n\n{QUOTED_ORIGINAL}"
)
OUTLOOK_FROM_BLOCK = (
    "________________________________\nFrom: Tandem <decide@tandem.example>\n"
    "Sent: Monday, December 7, 2026 9:05 AM\nTo: Ivan Novak\n"
    f"Subject: For your decision: PR-2099-00001 Figma seats\n\n{QUOTED_ORIGINAL}"
)
OUTLOOK_GERMAN = (
    "Von: Tandem <decide@tandem.example>\nGesendet: Montag, 7. Dezember 2026 09:05\n"
    f"An: Ivan Novak\nBetreff: For your decision: PR-2099-00001\n\n{QUOTED_ORIGINAL}"
)
PLAIN_QUOTE = quoted(QUOTED_ORIGINAL)

SIGNATURES = {
    "Sent from my iPhone": "Sent from my iPhone",
    "Sent from my phone": "Sent from my phone",
    "Get Outlook for iOS": "Get Outlook for iOS",
    "-- line": "-- \nIvan Novak\nIT architecture",
    "Best regards": "Best regards,\nIvan",
    "Thanks": "Thanks,\nIvan",
    "Cheers": "Cheers,\nIvan",
    "Grüße": "Grüße, Ivan",
    "Viele Grüße": "Viele Grüße\nIvan",
    "Mit freundlichen Grüßen": "Mit freundlichen Grüßen\nIvan Novak",
    "Von meinem iPhone gesendet": "Von meinem iPhone gesendet",
    "Sent with Proton Mail": "Sent with Proton Mail secure email.",
}
ORIGINALS = {
    "Gmail": GMAIL,
    "Gmail, its header wrapped": GMAIL_WRAPPED,
    "Gmail in German": GMAIL_GERMAN,
    "Outlook's Original Message": OUTLOOK_ORIGINAL,
    "Outlook's From block": OUTLOOK_FROM_BLOCK,
    "Outlook in German": OUTLOOK_GERMAN,
    "> quotes only": PLAIN_QUOTE,
}


@pytest.mark.parametrize("signature", SIGNATURES.values(), ids=SIGNATURES.keys())
def test_approve_with_a_signature_stores_no_comment(it_step, it_reviewer, signature):
    token = services.issue_token(it_reviewer, it_step, TokenKind.REPLY)
    outcome = reply(token, f"approve\n\n{signature}\n\n{GMAIL}")
    it_step.refresh_from_db()
    assert (it_step.state, it_step.comment) == (StepState.APPROVED, ""), outcome
    assert outcome.startswith("Done: you approved")


@pytest.mark.parametrize("original", ORIGINALS.values(), ids=ORIGINALS.keys())
def test_the_quoted_original_is_no_part_of_the_reason(it_step, it_reviewer, original):
    token = services.issue_token(it_reviewer, it_step, TokenKind.REPLY)
    reply(token, f"Reject: no budget this year\nAsk again in spring.\n\n{original}\n")
    it_step.refresh_from_db()
    assert it_step.state == StepState.REJECTED
    assert it_step.comment == "no budget this year\nAsk again in spring."


@pytest.mark.parametrize(
    "signature, original",
    [
        (SIGNATURES["Mit freundlichen Grüßen"], OUTLOOK_GERMAN),
        (SIGNATURES["Sent from my iPhone"], GMAIL),
        (SIGNATURES["-- line"], OUTLOOK_ORIGINAL),
        (SIGNATURES["Viele Grüße"], PLAIN_QUOTE),
    ],
    ids=["German Outlook", "iPhone Gmail", "-- and Outlook", "German > quotes"],
)
def test_a_reason_keeps_its_lines_and_lists_and_loses_signature_and_quote(
    it_step, it_reviewer, signature, original
):
    token = services.issue_token(it_reviewer, it_step, TokenKind.REPLY)
    reason = "Please add:\n- the signed DPA\n- the vendor's quote"
    reply(token, f"changes: {reason}\n\n{signature}\n\n{original}")
    it_step.refresh_from_db()
    assert (it_step.state, it_step.comment) == (StepState.CHANGES_REQUESTED, reason)


def test_a_line_that_only_starts_like_a_sign_off_is_kept(it_step, it_reviewer):
    token = services.issue_token(it_reviewer, it_step, TokenKind.REPLY)
    reason = "Cheers for the quick quote, but we need the signed DPA first\nThanks to Ana, too."
    reply(token, f"changes: {reason}\n\nCheers,\nIvan\n\n{GMAIL}")
    it_step.refresh_from_db()
    assert it_step.comment == reason


# Refused replies speak of the reply, not of a link.


def test_a_reply_sent_twice_is_refused_in_words_about_replies(it_step, it_reviewer):
    token = services.issue_token(it_reviewer, it_step, TokenKind.REPLY)
    reply(token, "approve")
    again = reply(token, "reject: changed my mind", message_id="<reply-2@tandem.example>")
    assert again.startswith("Nothing was decided: You already decided by replying to this e-mail")
    assert "link" not in again


def test_a_reply_after_a_colleague_decided_is_refused_in_words_about_replies(it_step, it_reviewer):
    from accounts import roles
    from tests.factories import UserFactory

    colleague = UserFactory(username="iris", roles=[roles.IT_REVIEWERS])
    token = services.issue_token(it_reviewer, it_step, TokenKind.REPLY)
    decide_step(it_step, by=colleague, decision="approve")
    outcome = reply(token, "approve")
    assert outcome == (
        "Nothing was decided: A reply to this e-mail no longer counts: This step is already "
        f"approved by {colleague}."
    )


def test_a_reply_after_an_edit_is_refused_in_words_about_replies(it_step, it_reviewer):
    token = services.issue_token(it_reviewer, it_step, TokenKind.REPLY)
    it_step.request.title = "Figma seats, more of them"
    it_step.request.save()
    outcome = reply(token, "approve")
    assert "changed after this e-mail was sent, so a reply to it no longer counts" in outcome
    assert "link" not in outcome


def test_a_link_is_still_refused_in_words_about_links(client, it_step, it_reviewer, link_for):
    link = link_for(it_reviewer, it_step)
    client.force_login(it_reviewer)
    client.post(link, {"decision": "approve"})
    assert "This link was already used, on" in client.get(link).content.decode()


# Times in the answer: in the reviewer's own time zone.

SENT = datetime(2026, 12, 1, 9, 5, tzinfo=ZoneInfo("UTC"))


@pytest.mark.parametrize(
    "zone, shown",
    [("Europe/Berlin", "1 Dec 2026, 10:05 CET"), ("America/New_York", "1 Dec 2026, 04:05 EST")],
)
def test_the_answer_to_a_late_reply_says_when_in_the_reviewers_zone(
    it_step, it_reviewer, settings, zone, shown
):
    it_reviewer.time_zone = zone
    it_reviewer.save()
    with time_machine.travel(SENT - timedelta(days=settings.TANDEM_DECISION_LINK_DAYS)):
        token = services.issue_token(it_reviewer, it_step, TokenKind.REPLY)
    with time_machine.travel(SENT + timedelta(hours=1)):
        outcome = reply(token, "approve")
    assert outcome == (
        f"Nothing was decided: Replies to this e-mail counted until {shown} "
        f"({settings.TANDEM_DECISION_LINK_DAYS} days after it was sent). Decide on the "
        "request's page instead."
    )
    [answer] = [m for m in mail.outbox if m.subject.startswith("Not decided:")]
    assert shown in answer.body


def test_the_answer_to_a_second_reply_says_when_in_the_reviewers_zone(it_step, it_reviewer):
    it_reviewer.time_zone = "Asia/Tokyo"
    it_reviewer.save()
    token = services.issue_token(it_reviewer, it_step, TokenKind.REPLY)
    with time_machine.travel(SENT):
        reply(token, "approve")
    again = reply(token, "approve", message_id="<reply-2@tandem.example>")
    assert again.endswith("on 1 Dec 2026, 18:05 JST.")


# Every e-mail about a request: its amount and its link at the top, above the "-- " line.


def top_of(body: str) -> str:
    """The body above the signature line, which every e-mail has."""
    assert "\n-- \n" in body
    return body.split("\n-- \n")[0]


@pytest.fixture
def submitted_request(requester, it_reviewer, procurement, cio, django_capture_on_commit_callbacks):
    purchase_request = PurchaseRequestFactory(requester=requester, title="Figma seats")
    with django_capture_on_commit_callbacks(execute=True):
        workflow.submit_request(purchase_request, by=requester)
    return purchase_request


def for_your_decision(request, capture):
    return [m for m in mail.outbox if m.subject.startswith("For your decision")]


def reminder_and_escalation(request, capture):
    mail.outbox.clear()
    with time_machine.travel(timezone.now() + timedelta(days=40)), capture(execute=True):
        sweep_due_steps()
    return [m for m in mail.outbox if m.subject.startswith(("Reminder", "Escalated"))]


def outcome_to_the_requester(request, capture):
    mail.outbox.clear()
    procurement = request.steps.get(side="procurement")
    with capture(execute=True):
        decide_step(
            procurement, by=procurement.group.user_set.get(), decision="reject", comment="No"
        )
    return [m for m in mail.outbox if m.to == [request.requester.email]]


def answer_to_a_reply(request, capture):
    mail.outbox.clear()
    step = request.steps.get(side="it")
    reviewer = step.group.user_set.get()
    reply(services.issue_token(reviewer, step, TokenKind.REPLY), "approve\n\nSent from my iPhone")
    return [m for m in mail.outbox if m.subject.startswith("Decided:")]


@pytest.mark.parametrize(
    "emails",
    [for_your_decision, reminder_and_escalation, outcome_to_the_requester, answer_to_a_reply],
)
def test_the_amount_and_the_link_stand_at_the_top(
    submitted_request, emails, django_capture_on_commit_callbacks
):
    sent = emails(submitted_request, django_capture_on_commit_callbacks)
    assert sent
    page = f"http://127.0.0.1:8000{submitted_request.get_absolute_url()}"
    for message in sent:
        top = top_of(message.body).splitlines()
        assert top[1] == "Amount: 1,000.00 EUR", message.body
        assert top[2].split(": ", 1)[1].startswith(page), message.body
        personal = [line for line in top if "/decide/" in line]
        if message.subject.startswith(("For your decision", "Reminder")):
            # The reviewer's own decision link, right under the page's, above what happened.
            assert personal == [top[4]], message.body
        html = message.alternatives[0][0]
        assert (
            html.index("Amount: 1,000.00 EUR")
            < html.index(page)
            < html.index('<p style="margin: .25rem 0;">')
        )
