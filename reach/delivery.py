"""What this app adds to notifications' delivery (registered in ReachConfig.ready):

- a "for your decision" e-mail (a notification whose topic is a step) gets the reader's
  personal decision link and, when replies are configured, a personal reply-to address;
- the Slack channel: the same notice as a direct message with decision buttons;
- when a step is decided (or closed by another decision), every reviewer's Slack message of it
  says who decided (through the audit trail's listener)."""

import logging

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from approvals.models import ApprovalStep, StepState
from core.tasks import enqueue_each
from notifications.services import absolute_url

from . import services, slack
from .models import SlackMessage, TokenKind

logger = logging.getLogger(__name__)
STEP_TOPIC = "step:"


def step_of(notification) -> ApprovalStep | None:
    """The step a notice asks a decision on ("for your decision", reminders, escalations):
    its topic is "step:<pk>" (approvals.notices.step_topic)."""
    topic = notification.topic or ""
    pk = topic.removeprefix(STEP_TOPIC)
    if not topic.startswith(STEP_TOPIC) or not pk.isdigit() or len(pk) > 18:
        return None
    return (
        ApprovalStep.objects.select_related("request", "vendor", "group", "user")
        .filter(pk=int(pk))
        .first()
    )


def reply_address(raw_token: str) -> str:
    local, _, domain = settings.TANDEM_INBOUND_ADDRESS.partition("@")
    return f"{local}+{raw_token}@{domain}"


def add_ways_to_decide(notification, message) -> None:
    """Puts the reader's own decision link (and reply-to address) into the e-mail of a notice
    about a step they may decide. Fresh tokens at each sending: only their hashes are kept."""
    step = step_of(notification)
    user = notification.recipient
    if step is None or user is None or not services.may_receive_ways_to_decide(user, step):
        return
    link = absolute_url(
        reverse("reach:decision-link", args=[services.issue_token(user, step, TokenKind.LINK)])
    )
    text = [
        "",
        f"Decide here (your personal link, valid {settings.TANDEM_DECISION_LINK_DAYS} days, "
        "once; it asks you to sign in and works for nobody else):",
        link,
    ]
    html = [f'<p style="margin-top: 1rem;"><a href="{link}">Decide here</a> (your own link)</p>']
    if settings.TANDEM_INBOUND_ADDRESS:
        message.reply_to = [reply_address(services.issue_token(user, step, TokenKind.REPLY))]
        how = (
            'Or reply to this e-mail with "approve", "reject: <reason>" or '
            '"changes: <reason>" as its first line.'
        )
        text += ["", how]
        html.append(
            "<p>Or reply to this e-mail with <b>approve</b>, <b>reject: reason</b> or "
            "<b>changes: reason</b> as its first line.</p>"
        )
    message.body = f"{message.body.rstrip()}\n" + "\n".join(text) + "\n"
    alternatives, message.alternatives = message.alternatives, []
    for content, mimetype in alternatives:
        if mimetype == "text/html":
            content = content.replace("</body>", "\n".join(html) + "\n</body>")
        message.attach_alternative(content, mimetype)


def send_slack(notification) -> None:
    """Delivers a Slack notification: the "for your decision" message with buttons in the
    reviewer's direct messages. Once per reviewer and step (a unique row)."""
    step = step_of(notification)
    user = notification.recipient
    if step is None or user is None or not services.may_receive_ways_to_decide(user, step):
        return  # decided meanwhile, or not theirs to decide: nothing to ask
    if SlackMessage.objects.filter(step=step, user=user).exists():
        return
    account = slack.account_for(user)
    if account is None:
        return  # not on Slack: e-mail and the app reach them
    channel, ts = slack.post_decision_request(account, step, notification)
    SlackMessage.objects.create(step=step, user=user, channel=channel, ts=ts)


def on_audit_event(event, subject) -> None:
    """The audit trail's listener: a decision on a step (from the page, the API, a link, a
    reply or Slack) settles the Slack messages of its round once the decision commits."""
    step_id = (event.payload or {}).get("step") if isinstance(event.payload, dict) else None
    if not event.kind.startswith("step_") or not step_id or not settings.TANDEM_SLACK_BOT_TOKEN:
        return
    transaction.on_commit(lambda: settle_slack_messages(step_id))


def settle_slack_messages(step_id: int) -> None:
    """Every reviewer's Slack message of a step that is no longer open is updated, once (the
    note is claimed on its row), to say who decided it, or which decision closed it."""
    decided = ApprovalStep.objects.select_related("decided_by", "decided_for").filter(pk=step_id)
    decided = decided.first()
    if decided is None or decided.state in (StepState.OPEN, StepState.WAITING):
        return
    by = f"{decided.decided_by}" + (f" for {decided.decided_for}" if decided.decided_for else "")
    closed = ApprovalStep.objects.filter(
        request_id=decided.request_id, vendor_id=decided.vendor_id, round=decided.round
    ).exclude(state__in=[StepState.OPEN, StepState.WAITING])
    claimed = []
    for message in SlackMessage.objects.filter(step__in=closed, settled_note=""):
        if message.step_id == decided.pk:
            note = f"{decided.get_state_display()} by {by}"
        else:
            note = (
                f"Closed: the {decided.reviewer_label} step was "
                f"{decided.get_state_display().lower()} by {by}"
            )
        if SlackMessage.objects.filter(pk=message.pk, settled_note="").update(
            settled_note=note[:200]
        ):
            claimed.append(message.pk)
    enqueue_each("reach.tasks.update_slack_message", claimed, what="Slack message")
