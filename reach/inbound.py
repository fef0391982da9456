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
from django.core.mail import EmailMessage as DjangoEmailMessage
from django.db import IntegrityError, transaction

from core.errors import DomainError
from core.pages import error_text
from core.validation import one_line
from notifications.services import absolute_url

from . import services
from .models import InboundMessage, TokenKind

logger = logging.getLogger(__name__)

COMMAND = re.compile(
    r"^\s*(?P<word>approved?|rejected?|reject|request changes|changes)\b\s*[:\-–]?\s*(?P<rest>.*)$",
    re.IGNORECASE,
)
# Where the quoted original starts in a reply.
QUOTE_START = re.compile(r"^(>|On .+ wrote:$|-----\s*Original Message|From: |-- $)", re.I)


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


def command_of(message) -> tuple[str | None, str]:
    """(decision, reason) from the reply's first line and the lines after it, up to the quoted
    original; (None, "") when the first line is no command."""
    part = message.get_body(preferencelist=("plain",))
    text = part.get_content() if part is not None else ""
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        return None, ""
    match = COMMAND.match(lines[0])
    if not match:
        return None, ""
    reason = [match["rest"].strip()]
    for line in lines[1:]:
        if QUOTE_START.match(line.strip()):
            break
        reason.append(line.strip())
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
    outcome, decided = _decide(message, sender, envelope_recipients or [])
    InboundMessage.objects.filter(pk=record.pk).update(outcome=outcome[:500])
    if sender:
        _answer(message, sender, outcome, decided)
    return outcome


def _decide(message, sender: str, envelope_recipients: list[str]) -> tuple[str, bool]:
    if not sender:
        return "Nothing was decided: the reply must come from exactly one sender.", False
    recipients = envelope_recipients + [
        addr for _, addr in getaddresses([str(h) for h in message.get_all("To") or []])
    ]
    raw_token = token_from(recipients)
    if raw_token is None:
        return (
            "Nothing was decided: reply to a “For your decision” e-mail from Tandem (its reply "
            "address is personal), without changing the address.",
            False,
        )
    token = services.token_for(raw_token, kind=TokenKind.REPLY)
    if token is None:
        return "Nothing was decided: the reply address is not valid.", False
    if sender.lower() != (token.user.email or "").lower():
        return (
            "Nothing was decided: this reply address belongs to somebody else, and only the "
            "reviewer it was sent to can decide by replying.",
            False,
        )
    passed, why = dmarc_passed(message, sender.rpartition("@")[2].lower())
    if not passed:
        return (
            f"Nothing was decided: {why}. Decide with the link in the e-mail or on the "
            "request's page instead.",
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


def _answer(message, sender: str, outcome: str, decided: bool) -> None:
    """Confirms the outcome to the sender, in the thread of their reply."""
    subject = one_line(str(message.get("Subject") or "your reply"))[:150]
    body = f"{outcome}\n\n-- \nTandem, IT purchase requests and approvals\n{absolute_url('/')}\n"
    answer = DjangoEmailMessage(
        subject=f"{'Decided' if decided else 'Not decided'}: {subject}",
        body=body,
        to=[sender],
    )
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
