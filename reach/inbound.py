"""Replies to "for your decision" e-mails (SPEC §8a). A reviewer replies "approve",
"reject: <reason>" or "changes: <reason>" as the first line. A reply counts only when

- it is addressed to a personal reply-to address (decide+<token>@…) whose token is valid for
  the step, the same rules as a decision link (recipient, revision, once, expiry);
- its From is the person the token was sent to;
- the receiving server's Authentication-Results header (the topmost one, written by a server
  whose authserv-id is in TANDEM_INBOUND_TRUSTED_AUTHSERV_IDS) says dmarc=pass for the From
  domain.

Otherwise nothing is decided and the sender is told why. Every outcome is confirmed by e-mail.
Each message is handled once (its Message-ID is recorded), whatever repeats its delivery."""

import email
import email.policy
import hashlib
import logging
import re
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr

import authres
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from mailparser_reply.parser import EmailMessage as EmailReplyMessage

from approvals.models import ApprovalStep
from approvals.notices import amount_of
from core.errors import DomainError
from core.pages import error_text
from core.validation import one_line
from notifications.services import absolute_url, render_email

from . import services
from .models import InboundMessage, TokenKind

logger = logging.getLogger(__name__)

COMMAND = re.compile(
    r"^\s*(?P<word>approved?|rejected?|reject|request changes|changes)\b\s*[:\-–]?\s*(?P<rest>.*)$",
    re.IGNORECASE,
)
# The languages whose sign-offs and quote headers the reply parser knows ("Grüße",
# "Am … schrieb …:"); English is always among them.
REPLY_LANGUAGES = ["en", "de"]
# Quoted text and sign-offs the parser leaves: lines quoted with ">" (without a header line
# above them), and short sign-off lines it does not know ("Von meinem iPhone gesendet",
# "Sent with Proton Mail", "Cheers, Paul"); a longer line is the reviewer's own words.
QUOTED = re.compile(r"^>")
SIGN_OFF = re.compile(
    r"^(von meinem [\w ]{1,30} gesendet|gesendet (von|mit) [\w .]{1,30}"
    r"|sent (with|via) [\w .]{1,30}|cheers\b[\w ,.!]{0,30})$",
    re.IGNORECASE,
)


def token_from(addresses: list[str]) -> str | None:
    """The token of the first recipient address of the form <local>+<token>@<domain>, where
    <local>@<domain> is TANDEM_INBOUND_ADDRESS."""
    local, _, domain = settings.TANDEM_INBOUND_ADDRESS.lower().partition("@")
    for address in addresses:
        name, _, host = address.strip().strip("<>").rpartition("@")
        base, plus, token = name.partition("+")
        if plus and base.lower() == local and host.lower() == domain and token:
            return token
    return None


def dmarc_passed(message, from_domain: str) -> tuple[bool, str]:
    """Whether the trusted receiving server found DMARC passing for `from_domain`. Only the
    topmost Authentication-Results header counts: the receiving server adds its own on top
    (and must remove any that claim its authserv-id from the sender, RFC 8601 §5)."""
    trusted = {t.lower() for t in settings.TANDEM_INBOUND_TRUSTED_AUTHSERV_IDS}
    if not trusted:
        return False, "this Tandem does not trust any mail server's sender checks yet"
    headers = message.get_all("Authentication-Results") or []
    if not headers:
        return False, "the receiving mail server did not check the sender (no DMARC result)"
    try:
        parsed = authres.AuthenticationResultsHeader.parse_value(str(headers[0]))
    except Exception:  # noqa: BLE001 - any malformed header is simply not a pass
        return False, "the receiving mail server's sender check could not be read"
    if (parsed.authserv_id or "").lower() not in trusted:
        return False, "the sender check was not made by a mail server Tandem trusts"
    for result in parsed.results:
        if result.method != "dmarc":
            continue
        header_from = ""
        for prop in result.properties:
            if prop.type == "header" and prop.name == "from":
                header_from = (prop.value or "").lower()
        if result.result == "pass" and header_from in ("", from_domain):
            return True, ""
    return False, "the sender's domain did not pass DMARC, so the sender cannot be verified"


def reply_text(text: str) -> str:
    """What the person wrote in their reply, as they see it: without the quoted original
    (Gmail's "On … wrote:", Outlook's "-----Original Message-----" or "From:/Sent:" block, "> "
    lines) and without their signature ("-- ", "Sent from my iPhone", "Grüße, Paul"), by the
    maintained parser mail-parser-reply; then up to the first quoted line or phone sign-off
    the parser leaves."""
    parsed = EmailReplyMessage(text=text, languages=list(REPLY_LANGUAGES), keep_hyphen_lists=True)
    replies = parsed.read().replies
    written = replies[0].body if replies else ""
    kept = []
    for line in written.splitlines():
        if QUOTED.match(line.strip()) or SIGN_OFF.match(line.strip()):
            break
        kept.append(line.rstrip())
    return "\n".join(kept).strip()


def command_of(message) -> tuple[str | None, str]:
    """(decision, reason) from the reply's first line and the lines after it, without quoted
    text and signature; (None, "") when the first line is no command."""
    part = message.get_body(preferencelist=("plain",))
    text = part.get_content() if part is not None else ""
    lines = reply_text(text).splitlines()
    if not lines:
        return None, ""
    match = COMMAND.match(lines[0])
    if not match:
        return None, ""
    reason = [match["rest"].strip(), *(line.strip() for line in lines[1:])]
    decision = services.DECISION_WORDS.get(" ".join(match["word"].lower().split()))
    return decision, "\n".join(line for line in reason if line).strip()


def handle(raw: bytes, envelope_recipients: list[str] | None = None) -> str:
    """Handles one received message; returns what the sender is told."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    message_id = one_line(str(message.get("Message-ID") or ""))[:255]
    key = message_id or f"sha256:{hashlib.sha256(raw).hexdigest()}"
    from_headers = message.get_all("From") or []
    senders = [addr for _, addr in getaddresses([str(h) for h in from_headers]) if addr]
    sender = senders[0] if len(senders) == 1 else ""
    try:
        with transaction.atomic():
            record = InboundMessage.objects.create(message_key=key, sender=sender[:320])
    except IntegrityError:
        logger.info("inbound message %s was already handled", key)
        return ""
    if is_auto_reply(message):
        outcome = "Not answered: an automatic reply (out of office, bounce) decides nothing."
        InboundMessage.objects.filter(pk=record.pk).update(outcome=outcome)
        return outcome
    outcome, decided, step = _decide(message, sender, envelope_recipients or [])
    InboundMessage.objects.filter(pk=record.pk).update(outcome=outcome[:500])
    if sender:
        _answer(message, sender, outcome, decided, step)
    return outcome


def _decide(message, sender: str, envelope_recipients: list[str]):
    """(what the sender is told, whether it decided, the step when the sender is the reviewer
    the reply address was sent to: their answer names it, with its amount and link)."""
    if not sender:
        return "Nothing was decided: the reply must come from exactly one sender.", False, None
    recipients = envelope_recipients + [
        addr for _, addr in getaddresses([str(h) for h in message.get_all("To") or []])
    ]
    raw_token = token_from(recipients)
    if raw_token is None:
        return (
            "Nothing was decided: reply to a “For your decision” e-mail from Tandem (its reply "
            "address is personal), without changing the address.",
            False,
            None,
        )
    token = services.token_for(raw_token, kind=TokenKind.REPLY)
    if token is None:
        return "Nothing was decided: the reply address is not valid.", False, None
    if sender.lower() != (token.user.email or "").lower():
        return (
            "Nothing was decided: this reply address belongs to somebody else, and only the "
            "reviewer it was sent to can decide by replying.",
            False,
            None,
        )
    with services.times_for_reviewer(token.user, token.step):
        outcome, decided = _decide_as_reviewer(message, sender, raw_token, token)
    return outcome, decided, token.step


def _decide_as_reviewer(message, sender: str, raw_token: str, token) -> tuple[str, bool]:
    passed, why = dmarc_passed(message, sender.rpartition("@")[2].lower())
    if not passed:
        return (
            f"Nothing was decided: {why}. Decide on the request's page instead, or with "
            "“Decide here” in the e-mail.",
            False,
        )
    decision, reason = command_of(message)
    if decision is None:
        return (
            'Nothing was decided: the first line of your reply must be "approve", '
            '"reject: <reason>" or "changes: <reason>".',
            False,
        )
    try:
        step = services.decide_with_token(
            raw_token, by=token.user, decision=decision, comment=reason, kind=TokenKind.REPLY
        )
    except services.TokenRefused as refused:
        return f"Nothing was decided: {refused.check.problem}", False
    except (DomainError, PermissionDenied, ValidationError) as error:
        return f"Nothing was decided: {error_text(error)}", False
    return (
        f"Done: you {services.OUTCOME[decision]} {step.subject_label} "
        f"({step.reviewer_label})" + (f" with the comment “{reason}”." if reason else "."),
        True,
    )


def _answer(message, sender: str, outcome: str, decided: bool, step) -> None:
    """Confirms the outcome to the sender, in the thread of their reply. To the reviewer it
    was sent to, the answer is laid out as every e-mail about a request: its amount and link
    at the top, above the signature; anybody else learns nothing about the request."""
    subject = one_line(str(message.get("Subject") or "your reply"))[:150]
    answer = EmailMultiAlternatives(
        subject=f"{'Decided' if decided else 'Not decided'}: {subject}",
        body=f"{outcome}\n\n-- \nTandem, IT purchase requests and approvals\n{absolute_url('/')}\n",
        to=[sender],
    )
    if step is not None:
        step = ApprovalStep.objects.select_related("request", "vendor").get(pk=step.pk)
        answer.body, html = render_email(
            f"{step.subject_label} ({step.reviewer_label})",
            [outcome],
            "Open it",
            f"{step.subject.get_absolute_url()}#steps",
            amount_of(step),
        )
        answer.attach_alternative(html, "text/html")
    # Marked automatic, so that the sender's own auto-replies do not answer it (no loops).
    answer.extra_headers = {"Auto-Submitted": "auto-replied"}
    message_id = one_line(str(message.get("Message-ID") or ""))
    if message_id:
        answer.extra_headers.update({"In-Reply-To": message_id, "References": message_id})
    try:
        answer.send()
    except Exception:  # noqa: BLE001 - the outcome stands; the confirmation is logged
        logger.exception("could not confirm inbound reply %s to %s", message_id, sender)


def is_auto_reply(message: EmailMessage) -> bool:
    """Out-of-office and bounce messages are never answered (no mail loops)."""
    auto = str(message.get("Auto-Submitted") or "no").lower()
    return (
        auto != "no"
        or bool(message.get("X-Autoreply"))
        or not parseaddr(str(message.get("From") or ""))[1]
    )
