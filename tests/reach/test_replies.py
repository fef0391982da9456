"""Replies by e-mail (SPEC §8a) through the real SMTP receiver (aiosmtpd, started on a free
port) and real SMTP messages (smtplib); Celery runs the hand-over task eagerly, as in the
other unit tests. A reply decides only with a valid personal reply address, from its
recipient, with the trusted server's dmarc=pass; every outcome is answered by e-mail."""

import smtplib
import socket
from email.message import EmailMessage

import pytest
from django.core import mail

from approvals.models import StepState
from audit.models import AuditEvent
from reach import services
from reach.management.commands.receive_mail import start_receiver
from reach.models import InboundMessage, TokenKind

pytestmark = pytest.mark.django_db(transaction=True)

TRUSTED = "mx.tandem.example"


@pytest.fixture(autouse=True)
def _inbound(settings):
    settings.TANDEM_INBOUND_ADDRESS = "decide@reply.tandem.example"
    settings.TANDEM_INBOUND_TRUSTED_AUTHSERV_IDS = [TRUSTED]


@pytest.fixture
def receiver():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = start_receiver("127.0.0.1", port)
    yield port
    controller.stop()


def decisions(step) -> int:
    return AuditEvent.objects.filter(kind__startswith="step_", payload__step=step.pk).count()


def reply(
    port,
    token,
    *,
    sender="ivan@tandem.example",
    body="approve",
    auth=f"{TRUSTED}; spf=pass smtp.mailfrom=tandem.example; dmarc=pass header.from=tandem.example",
    message_id="<reply-1@tandem.example>",
    extra_headers=(),
):
    message = EmailMessage()
    message["From"] = f"Ivan <{sender}>"
    message["To"] = f"decide+{token}@reply.tandem.example"
    message["Subject"] = "Re: For your decision: PR-2099-00001"
    message["Message-ID"] = message_id
    if auth:  # the receiving server's header comes first, on top of what the sender wrote
        message["Authentication-Results"] = auth
    for name, value in extra_headers:
        message[name] = value
    message.set_content(f"{body}\n\nOn Mon, Tandem wrote:\n> For your decision\n")
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.send_message(message)
    return message


def answers():
    return [m for m in mail.outbox if m.subject.startswith(("Decided:", "Not decided:"))]


def answer_to(address):
    answers_ = [m for m in answers() if m.to == [address]]
    assert len(answers_) == 1, [m.subject for m in mail.outbox]
    return answers_[0]


def test_approve_by_reply_decides_once_and_is_confirmed(receiver, it_step, it_reviewer):
    token = services.issue_token(it_reviewer, it_step, TokenKind.REPLY)
    reply(receiver, token)
    it_step.refresh_from_db()
    assert it_step.state == StepState.APPROVED and it_step.decided_by == it_reviewer
    assert decisions(it_step) == 1
    answer = answer_to("ivan@tandem.example")
    assert answer.subject.startswith("Decided:")
    assert "you approved" in answer.body
    assert answer.extra_headers["In-Reply-To"] == "<reply-1@tandem.example>"


def test_the_same_message_delivered_twice_is_handled_once(receiver, it_step, it_reviewer):
    token = services.issue_token(it_reviewer, it_step, TokenKind.REPLY)
    reply(receiver, token)
    reply(receiver, token)
    assert decisions(it_step) == 1
    assert InboundMessage.objects.count() == 1
    answer_to("ivan@tandem.example")


def test_reject_with_its_reason(receiver, it_step, it_reviewer):
    token = services.issue_token(it_reviewer, it_step, TokenKind.REPLY)
    reply(receiver, token, body="Reject: no budget this year\nAsk again in spring.")
    it_step.refresh_from_db()
    assert it_step.state == StepState.REJECTED
    assert it_step.comment == "no budget this year\nAsk again in spring."


def test_changes_with_a_reason(receiver, it_step, it_reviewer):
    token = services.issue_token(it_reviewer, it_step, TokenKind.REPLY)
    reply(receiver, token, body="changes: attach the quote")
    it_step.refresh_from_db()
    assert it_step.state == StepState.CHANGES_REQUESTED and it_step.comment == "attach the quote"


def test_reject_without_a_reason_decides_nothing_and_says_why(receiver, it_step, it_reviewer):
    token = services.issue_token(it_reviewer, it_step, TokenKind.REPLY)
    reply(receiver, token, body="reject")
    it_step.refresh_from_db()
    assert it_step.state == StepState.OPEN
    answer = answer_to("ivan@tandem.example")
    assert answer.subject.startswith("Not decided:") and "comment is required" in answer.body


def test_a_spoofed_sender_decides_nothing(receiver, it_step, it_reviewer, procurement):
    """The address of Ivan's reply, sent by Paul: the From is not the recipient."""
    token = services.issue_token(it_reviewer, it_step, TokenKind.REPLY)
    reply(receiver, token, sender="paul@tandem.example")
    it_step.refresh_from_db()
    assert it_step.state == StepState.OPEN and decisions(it_step) == 0
    assert "belongs to somebody else" in answer_to("paul@tandem.example").body


@pytest.mark.parametrize(
    "auth, why",
    [
        (None, "did not check the sender"),
        (f"{TRUSTED}; dmarc=fail header.from=tandem.example", "did not pass DMARC"),
        ("mx.attacker.example; dmarc=pass header.from=tandem.example", "not made by a mail server"),
        (f"{TRUSTED}; dmarc=pass header.from=elsewhere.example", "did not pass DMARC"),
        (f"{TRUSTED}; spf=pass (dmarc=pass) smtp.mailfrom=tandem.example", "did not pass DMARC"),
        (f"{TRUSTED}; dmarc=pass (", "could not be read"),
    ],
)
def test_a_forged_from_without_dmarc_pass_decides_nothing(
    receiver, it_step, it_reviewer, auth, why
):
    token = services.issue_token(it_reviewer, it_step, TokenKind.REPLY)
    reply(receiver, token, auth=auth)
    it_step.refresh_from_db()
    assert it_step.state == StepState.OPEN and decisions(it_step) == 0
    assert why in answer_to("ivan@tandem.example").body


def test_only_the_receiving_servers_own_header_counts(receiver, it_step, it_reviewer):
    """A sender's own "dmarc=pass" header under the receiving server's fail is no pass."""
    token = services.issue_token(it_reviewer, it_step, TokenKind.REPLY)
    reply(
        receiver,
        token,
        auth=f"{TRUSTED}; dmarc=fail header.from=tandem.example",
        extra_headers=[("Authentication-Results", f"{TRUSTED}; dmarc=pass")],
    )
    it_step.refresh_from_db()
    assert it_step.state == StepState.OPEN


def test_without_a_trusted_server_no_reply_decides(receiver, it_step, it_reviewer, settings):
    settings.TANDEM_INBOUND_TRUSTED_AUTHSERV_IDS = []
    token = services.issue_token(it_reviewer, it_step, TokenKind.REPLY)
    reply(receiver, token)
    it_step.refresh_from_db()
    assert it_step.state == StepState.OPEN
    assert "does not trust" in answer_to("ivan@tandem.example").body


def test_an_unknown_token_decides_nothing(receiver, it_step, it_reviewer):
    reply(receiver, "not-a-token")
    it_step.refresh_from_db()
    assert it_step.state == StepState.OPEN
    assert "not valid" in answer_to("ivan@tandem.example").body


def test_a_link_token_is_no_reply_address(receiver, it_step, it_reviewer):
    token = services.issue_token(it_reviewer, it_step, TokenKind.LINK)
    reply(receiver, token)
    it_step.refresh_from_db()
    assert it_step.state == StepState.OPEN


def test_an_unclear_first_line_decides_nothing(receiver, it_step, it_reviewer):
    token = services.issue_token(it_reviewer, it_step, TokenKind.REPLY)
    reply(receiver, token, body="Looks good to me, but let me check")
    it_step.refresh_from_db()
    assert it_step.state == StepState.OPEN
    assert "first line of your reply" in answer_to("ivan@tandem.example").body


def test_a_reply_after_the_step_closed_says_who_decided(receiver, it_step, it_reviewer):
    first = services.issue_token(it_reviewer, it_step, TokenKind.REPLY)
    reply(receiver, first)
    mail.outbox.clear()
    second = services.issue_token(it_reviewer, it_step, TokenKind.REPLY)
    reply(receiver, second, message_id="<reply-2@tandem.example>")
    assert decisions(it_step) == 1
    assert "already approved by" in answer_to("ivan@tandem.example").body


def test_out_of_office_replies_are_neither_decided_nor_answered(receiver, it_step, it_reviewer):
    token = services.issue_token(it_reviewer, it_step, TokenKind.REPLY)
    reply(receiver, token, extra_headers=[("Auto-Submitted", "auto-replied")])
    it_step.refresh_from_db()
    assert it_step.state == StepState.OPEN
    assert answers() == []


def test_the_receiver_refuses_mail_for_other_addresses(receiver):
    with (
        smtplib.SMTP("127.0.0.1", receiver, timeout=10) as smtp,
        pytest.raises(smtplib.SMTPRecipientsRefused),
    ):
        smtp.sendmail("x@example.com", ["someone@reply.tandem.example"], "Subject: x\n\nhi")
