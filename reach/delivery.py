"""What this app adds to notifications' delivery (registered in ReachConfig.ready):

- a "for your decision" e-mail (a notification whose topic is a step) gets the reader's
  personal decision link and, when replies are configured, a personal reply-to address;
- the Slack channel: the same notice as a direct message with decision buttons;
- when a step is settled, every reviewer's Slack message of it says who decided."""

import logging

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from approvals.models import ApprovalStep
from core.tasks import enqueue_each
from notifications.services import absolute_url

from . import services, slack
from .models import SlackMessage, TokenKind

logger = logging.getLogger(__name__)
STEP_TOPIC = "step:"


def step_of(notification) -> ApprovalStep | None:
    topic = getattr(notification, "topic", "") or ""
    pk = topic.removeprefix(STEP_TOPIC)
    if not topic.startswith(STEP_TOPIC) or not pk.isdigit():
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
    message.alternatives = [
        (content.replace("</body>", "\n".join(html) + "\n</body>"), mimetype)
        if mimetype == "text/html"
        else (content, mimetype)
        for content, mimetype in message.alternatives
    ]


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


def step_settled(topics, note: str) -> None:
    """In the transaction that settles a step's notices: after it commits, a task updates every
    reviewer's Slack message of the step to say who decided."""
    step_ids = [int(t.removeprefix(STEP_TOPIC)) for t in topics if t.startswith(STEP_TOPIC)]
    if not step_ids or not settings.TANDEM_SLACK_BOT_TOKEN:
        return
    pending = list(
        SlackMessage.objects.filter(step_id__in=step_ids, settled_note="").values_list(
            "pk", flat=True
        )
    )
    if pending:
        SlackMessage.objects.filter(pk__in=pending).update(settled_note=note[:200] or "Decided")
        transaction.on_commit(
            lambda: enqueue_each("reach.tasks.update_slack_message", pending, what="Slack message")
        )
