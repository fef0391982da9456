"""What this app adds to notifications' delivery (registered in ReachConfig.ready):

- a "for your decision" e-mail (a notification whose topic is a step) gets the reader's
  personal decision link and, when replies are configured, a personal reply-to address;
- the Slack channel: the same notice as a direct message with decision buttons;
- when a step closes, for any reason, every reviewer's Slack message of it says how it closed
  and keeps no buttons (notifications' `settled` hook, called by `mark_done`)."""

import logging

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from approvals.models import ApprovalStep
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
    about a step they may decide, at its top: under the amount and the page's link, above
    what happened and the signature. Fresh tokens at each sending: only their hashes are
    kept."""
    step = step_of(notification)
    user = notification.recipient
    if step is None or user is None or not services.may_receive_ways_to_decide(user, step):
        return
    link = absolute_url(
        reverse("reach:decision-link", args=[services.issue_token(user, step, TokenKind.LINK)])
    )
    text = [
        f"Decide here (your personal link, valid {settings.TANDEM_DECISION_LINK_DAYS} days, "
        "once; it asks you to sign in and works for nobody else):",
        link,
    ]
    html = [f'<p style="margin: 1rem 0;"><a href="{link}">Decide here</a> (your own link)</p>']
    if settings.TANDEM_INBOUND_ADDRESS:
        message.reply_to = [reply_address(services.issue_token(user, step, TokenKind.REPLY))]
        text.append(
            'Or reply to this e-mail with "approve", "reject: <reason>" or '
            '"changes: <reason>" as its first line.'
        )
        html.append(
            "<p>Or reply to this e-mail with <b>approve</b>, <b>reject: reason</b> or "
            "<b>changes: reason</b> as its first line.</p>"
        )
    message.body = at_the_top(message.body, text, after=absolute_url(notification.url))
    alternatives, message.alternatives = message.alternatives, []
    for content, mimetype in alternatives:
        if mimetype == "text/html":
            marker = HTML_MARKER if HTML_MARKER in content else "</body>"
            content = content.replace(marker, "\n".join(html) + "\n" + marker, 1)
        message.attach_alternative(content, mimetype)


# Where the e-mail template (notifications/email/message.html) leaves room for them.
HTML_MARKER = "<!-- ways to decide -->"
SIGNATURE = "-- "


def at_the_top(body: str, added: list[str], *, after: str) -> str:
    """`body` with the `added` lines right under the first line that holds `after` (the link
    to the page), or, in a body without it, above the signature line ("-- ")."""
    lines = body.rstrip().split("\n")
    at = next((i + 1 for i, line in enumerate(lines) if after and after in line), None)
    if at is None:
        at = next((i for i, line in enumerate(lines) if line == SIGNATURE), len(lines))
        added = [*added, ""]
    return "\n".join(lines[:at] + added + lines[at:]) + "\n"


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
    slack.settle_if_closed(step.pk)  # closed while it was posted: its closing found no message yet


def on_settled(topics, note: str) -> None:
    """notifications' `settled` hook: the steps among these topics closed (decided anywhere,
    closed by another decision, withdrawn, their vendor not approved): once the closing
    commits, every reviewer's Slack message of them loses its buttons and says `note`."""
    step_ids = [
        int(pk)
        for pk in (t.removeprefix(STEP_TOPIC) for t in topics if t.startswith(STEP_TOPIC))
        if pk.isdigit() and len(pk) <= 18
    ]
    if step_ids and settings.TANDEM_SLACK_BOT_TOKEN:
        transaction.on_commit(lambda: slack.settle_messages(step_ids, note))
