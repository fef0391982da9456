"""Personal ways to decide a step away from the request page (SPEC §8a): a decision link and a
reply-to address in each "for your decision" e-mail. Both only ever lead to approvals'
`decide_step`, with its policy: a token says which step and whose e-mail it was, never that
its holder may decide.

A token is an opaque random string; only its SHA-256 is stored. It is bound to its recipient,
its step and the subject's revision when it was sent (an edit voids it), used once, and
expires when the step closes or after TANDEM_DECISION_LINK_DAYS days."""

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from approvals import policies
from approvals.models import ApprovalStep, StepState
from approvals.services import decide_step
from approvals.subjects import subject_of
from calendars.selectors import working_hours_of
from core import formats
from core.errors import DomainError
from intake.models import PurchaseRequest
from intake.services import EDITABLE_FIELDS

from .models import DecisionToken, TokenKind

VENDOR_FIELDS = ("name", "legal_name", "website", "country", "contact_email", "data_access_level")
# The words a reviewer uses, and the decision each one means.
DECISION_WORDS = {
    "approve": "approve",
    "approved": "approve",
    "reject": "reject",
    "rejected": "reject",
    "changes": "request_changes",
    "request changes": "request_changes",
}
OUTCOME = {"approve": "approved", "reject": "rejected", "request_changes": "sent back for changes"}


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def revision_of(step: ApprovalStep) -> str:
    """A fingerprint of what the reviewer is asked to decide on: the request's content (what
    its requester can edit, and its line items) or the vendor's details. Any edit changes it."""
    subject = step.subject
    if isinstance(subject, PurchaseRequest):
        fields = [subject._meta.get_field(name) for name in EDITABLE_FIELDS]
        data = {f.name: f.value_from_object(subject) for f in fields}
        data["line_items"] = list(
            subject.line_items.order_by("pk").values_list("description", "quantity", "unit_price")
        )
    else:
        data = {name: getattr(subject, name) for name in VENDOR_FIELDS}
    encoded = json.dumps(data, sort_keys=True, default=str).encode()
    return hashlib.sha256(encoded).hexdigest()


def issue_token(user, step: ApprovalStep, kind: str) -> str:
    """A new personal token for `user` on `step`; returns the raw token (stored hashed)."""
    raw = secrets.token_urlsafe(32)
    DecisionToken.objects.create(
        kind=kind,
        token_hash=_hash(raw),
        user=user,
        step=step,
        revision=revision_of(step),
        expires_at=timezone.now() + timedelta(days=settings.TANDEM_DECISION_LINK_DAYS),
    )
    return raw


def may_receive_ways_to_decide(user, step: ApprovalStep) -> bool:
    """Links and reply addresses go only to reviewers the policy lets decide the open step."""
    return step.state == StepState.OPEN and policies.can_decide(user, step).allowed


def times_for_reviewer(user, step: ApprovalStep):
    """Times written to a reviewer away from a page (the answer to their reply, to their Slack
    click) read in their own time zone, else in their team's calendar's, as notices do."""
    team_zone = working_hours_of(step.group_id).zone if step.group_id else None
    return formats.times_for(user, fallback=team_zone)


@dataclass
class Check:
    """What a token allows now: `problem` says why it cannot be used (None: it can);
    `status` is the HTTP status a page shows it with."""

    token: DecisionToken | None
    problem: str | None = None
    status: int = 200

    @property
    def step(self) -> ApprovalStep | None:
        return self.token.step if self.token else None


def token_for(raw: str, *, kind: str) -> DecisionToken | None:
    return (
        DecisionToken.objects.select_related("user", "step__request", "step__vendor")
        .filter(token_hash=_hash(raw or ""), kind=kind)
        .first()
    )


# What a refused token is told, in the words of the way it came: a link is opened, a reply
# is written ("reply", never "link", in the answer to a reply).
REFUSALS = {
    TokenKind.LINK: {
        "unknown": "This link is not valid: it may have been copied incompletely.",
        "not_yours": (
            "This decision link was sent to somebody else. A forwarded link gives nobody else "
            "a right to decide; if you review this request, use the link in your own e-mail or "
            "open the request from Waiting for me."
        ),
        "used": "This link was already used, on {when}.",
        "used_now": "This link was already used.",
        "changed": (
            "The request was changed after this link was sent, so the link no longer counts. "
            "Look at it as it is now and decide on its page."
        ),
        "closed": "This link no longer counts: {why}",
        "expired": "This link expired on {when} (links last {days} days).",
    },
    TokenKind.REPLY: {
        "unknown": (
            "The address you replied to is not valid: reply to the e-mail itself, without "
            "changing its address."
        ),
        "not_yours": (
            "This e-mail was sent to somebody else: only the reviewer it was sent to can decide "
            "by replying to it."
        ),
        "used": "You already decided by replying to this e-mail, on {when}.",
        "used_now": "You already decided by replying to this e-mail.",
        "changed": (
            "The request was changed after this e-mail was sent, so a reply to it no longer "
            "counts. Look at it as it is now and decide on its page."
        ),
        "closed": "A reply to this e-mail no longer counts: {why}",
        "expired": (
            "Replies to this e-mail counted until {when} ({days} days after it was sent). "
            "Decide on the request's page instead."
        ),
    },
}


def refusal(kind: str, problem: str, **values) -> str:
    return REFUSALS[kind][problem].format(**values)


def check_token(raw: str, *, user, kind: str = TokenKind.LINK) -> Check:
    """Whether `user` may use this token now, and why not, in the words of its way (a link, a
    reply). A forwarded token gives nobody else a right: it works only for the person it was
    sent to. Times are in the active time zone: the reader's."""
    token = token_for(raw, kind=kind)
    if token is None:
        return Check(None, refusal(kind, "unknown"), 404)
    if token.user_id != user.pk:
        return Check(token, refusal(kind, "not_yours"), 403)
    step = token.step
    if token.used_at:
        return Check(token, refusal(kind, "used", when=formats.when(token.used_at)), 410)
    if revision_of(step) != token.revision:
        return Check(token, refusal(kind, "changed"), 410)
    if step.state != StepState.OPEN:
        return Check(token, refusal(kind, "closed", why=policies.why_not_open(step)), 410)
    if token.expires_at <= timezone.now():
        when, days = formats.when(token.expires_at), settings.TANDEM_DECISION_LINK_DAYS
        return Check(token, refusal(kind, "expired", when=when, days=days), 410)
    verdict = policies.can_decide(user, step)
    if not verdict.allowed:
        return Check(token, verdict.reason, 403)
    return Check(token)


class TokenRefused(DomainError):
    """The token cannot be used (see `Check.problem`)."""

    def __init__(self, check: Check):
        super().__init__(check.problem)
        self.check = check


def decide_with_token(
    raw: str, *, by, decision: str, comment: str = "", kind: str = TokenKind.LINK
) -> ApprovalStep:
    """Decides the token's step as `by`, through `decide_step` and its policy, and uses the
    token up. The token is claimed first, so two uses at the same moment decide at most once;
    a decision refused (a missing reason, the policy, a step closed meanwhile) gives it back."""
    check = check_token(raw, user=by, kind=kind)
    if check.problem:
        raise TokenRefused(check)
    token = check.token
    claimed = DecisionToken.objects.filter(pk=token.pk, used_at__isnull=True).update(
        used_at=timezone.now()
    )
    if claimed != 1:
        raise TokenRefused(Check(token, refusal(kind, "used_now"), 410))
    try:
        step = decide_step(token.step, by=by, decision=decision, comment=comment)
    except (DomainError, PermissionDenied, ValidationError):
        DecisionToken.objects.filter(pk=token.pk).update(used_at=None)
        raise
    return step


def summary_of(step: ApprovalStep) -> dict:
    """What the decision page shows of the subject."""
    subject = subject_of(step)
    return {"label": subject.label, "description": subject.description, "url": subject.url}
