"""Slack (SPEC §8a): "for your decision" in the reviewer's direct messages, with Approve,
Request changes and Reject; reasons through a modal; every click checked by its signature and
decided through approvals' `decide_step` as the Tandem user the Slack user maps to.

The Web API is the official `slack_sdk` client; its base URL is TANDEM_SLACK_API_URL, so tests
talk to a local stand-in for Slack."""

import json
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.signature import SignatureVerifier

from approvals.models import ApprovalStep, StepState
from approvals.policies import why_not_open
from approvals.services import decide_step
from core import formats
from core.errors import DomainError
from core.pages import error_text
from core.tasks import enqueue_each
from notifications.services import absolute_url

from .models import SlackAccount, SlackMessage
from .services import times_for_reviewer

logger = logging.getLogger(__name__)

ACTIONS = {"approve": "Approve", "request_changes": "Request changes", "reject": "Reject"}
PAST = {"approve": "approved", "request_changes": "sent back for changes", "reject": "rejected"}
MODAL_CALLBACK = "tandem_decision_reason"
NOT_LINKED = "Your Slack account is not linked to a Tandem user who may decide this."
REASON_BLOCK, REASON_INPUT = "reason", "reason_input"


def configured() -> bool:
    return bool(settings.TANDEM_SLACK_BOT_TOKEN and settings.TANDEM_SLACK_SIGNING_SECRET)


def client() -> WebClient:
    return WebClient(
        token=settings.TANDEM_SLACK_BOT_TOKEN, base_url=settings.TANDEM_SLACK_API_URL, timeout=10
    )


def signature_is_valid(body: bytes, timestamp: str | None, signature: str | None) -> bool:
    """X-Slack-Signature over the raw body, with Slack's 5-minute tolerance on the timestamp."""
    if not configured() or not timestamp or not signature or not timestamp.isdigit():
        return False
    verifier = SignatureVerifier(settings.TANDEM_SLACK_SIGNING_SECRET)
    try:
        return verifier.is_valid(body=body, timestamp=timestamp, signature=signature)
    except (ValueError, UnicodeDecodeError):
        return False


def account_for(user) -> SlackAccount | None:
    """The user's Slack account, looked up by their e-mail the first time (users:read.email)."""
    account = SlackAccount.objects.filter(user=user).first()
    if account is not None or not user.email:
        return account
    try:
        found = client().users_lookupByEmail(email=user.email)
    except SlackApiError as error:
        if error.response.get("error") == "users_not_found":
            return None
        raise
    slack_id = found["user"]["id"]
    account, _ = SlackAccount.objects.update_or_create(
        user=user, defaults={"slack_user_id": slack_id}
    )
    return account


def user_for(slack_user_id: str):
    """The Tandem user a Slack user maps to: the one whose Slack account it is, else the active
    user with the e-mail Slack gives for it. None when there is none (or more than one)."""
    account = SlackAccount.objects.select_related("user").filter(slack_user_id=slack_user_id)
    account = account.first()
    if account is not None:
        # An account of somebody who left still maps to them: the decision policy then says
        # why nothing is decided, in the same words as every other path.
        return account.user
    try:
        info = client().users_info(user=slack_user_id)
    except (SlackClientError, OSError):
        return None
    email = (info.get("user") or {}).get("profile", {}).get("email") or ""
    users = list(get_user_model().objects.filter(email__iexact=email, is_active=True)[:2])
    if not email or len(users) != 1:
        return None
    SlackAccount.objects.update_or_create(user=users[0], defaults={"slack_user_id": slack_user_id})
    return users[0]


def decision_blocks(step: ApprovalStep, notification) -> list[dict]:
    url = absolute_url(notification.url)
    summary = getattr(notification, "summary", "") or notification.subject
    actions = [
        {
            "type": "button",
            "action_id": decision,
            "text": {"type": "plain_text", "text": label},
            "value": str(step.pk),
            **({"style": "primary"} if decision == "approve" else {}),
            **({"style": "danger"} if decision == "reject" else {}),
        }
        for decision, label in ACTIONS.items()
        if step.request_id or decision != "request_changes"
    ]
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{notification.subject}*"}},
        {"type": "section", "text": {"type": "plain_text", "text": summary[:2900]}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"<{url}|Open in Tandem>"}]},
        {"type": "actions", "block_id": f"decide:{step.pk}", "elements": actions},
    ]


def post_decision_request(account: SlackAccount, step: ApprovalStep, notification):
    """Posts the message in the reviewer's DM (im:write, chat:write); returns (channel, ts)."""
    api = client()
    if not account.dm_channel:
        opened = api.conversations_open(users=account.slack_user_id)
        account.dm_channel = opened["channel"]["id"]
        account.save(update_fields=["dm_channel"])
    posted = api.chat_postMessage(
        channel=account.dm_channel,
        text=notification.subject,
        blocks=decision_blocks(step, notification),
    )
    return posted["channel"], posted["ts"]


def settled_blocks(message: SlackMessage) -> list[dict]:
    step = message.step
    url = absolute_url(f"{step.subject.get_absolute_url()}#steps")
    text = f"*{step.subject_label}* ({step.reviewer_label})\n{message.settled_note}."
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"<{url}|Open in Tandem>"}]},
    ]


def update_message(message: SlackMessage) -> None:
    """Replaces the buttons of one reviewer's message with who decided (chat.update)."""
    client().chat_update(
        channel=message.channel,
        ts=message.ts,
        text=f"{message.step.subject_label}: {message.settled_note}",
        blocks=settled_blocks(message),
    )


def settle_messages(step_ids, note: str) -> None:
    """Each Slack message of these steps not settled yet is claimed with the note (once, on its
    row) and updated by a Celery task (chat.update)."""
    claimed = []
    waiting = SlackMessage.objects.filter(step_id__in=step_ids, settled_note="")
    for pk in waiting.values_list("pk", flat=True):
        if SlackMessage.objects.filter(pk=pk, settled_note="").update(settled_note=note[:200]):
            claimed.append(pk)
    enqueue_each("reach.tasks.update_slack_message", claimed, what="Slack message")


def settle_if_closed(step_id: int) -> None:
    """Settles the Slack messages of a step that is closed now: for a message posted while the
    step closed, or one whose update was lost (a click on it finds the step closed)."""
    step = (
        ApprovalStep.objects.select_related("decided_by", "decided_for")
        .exclude(state__in=[StepState.OPEN, StepState.WAITING])
        .filter(pk=step_id)
        .first()
    )
    if step is not None:
        settle_messages([step.pk], step.closing_note)


# Interactivity


def reason_modal(step: ApprovalStep, decision: str, *, channel: str = "") -> dict:
    return {
        "type": "modal",
        "callback_id": MODAL_CALLBACK,
        "private_metadata": json.dumps({"step": step.pk, "decision": decision, "channel": channel}),
        "title": {"type": "plain_text", "text": ACTIONS[decision][:24]},
        "submit": {"type": "plain_text", "text": ACTIONS[decision][:24]},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "section",
                "text": {"type": "plain_text", "text": step.subject_label[:2900]},
            },
            {
                "type": "input",
                "block_id": REASON_BLOCK,
                "label": {"type": "plain_text", "text": "Reason"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": REASON_INPUT,
                    "multiline": True,
                    "max_length": 3000,
                },
            },
        ],
    }


def decide(step_id, decision: str, slack_user_id: str, comment: str = "") -> tuple[bool, str]:
    """Decides as the Tandem user the Slack user maps to, through `decide_step` and its policy.
    Returns (decided, what to tell the Slack user)."""
    if decision not in ACTIONS or not str(step_id).isdigit() or len(str(step_id)) > 18:
        return False, "Tandem did not understand this action."
    step = ApprovalStep.objects.select_related("request", "vendor").filter(pk=int(step_id)).first()
    user = user_for(slack_user_id) if slack_user_id else None
    if step is None or user is None:
        return False, NOT_LINKED
    try:
        step = decide_step(step, by=user, decision=decision, comment=comment)
    except (DomainError, PermissionDenied, ValidationError) as error:
        return False, f"Nothing was decided: {error_text(error)}"
    with times_for_reviewer(user, step):
        when = formats.when(step.decided_at)
    return True, f"You {PAST[decision]} {step.subject_label} ({step.reviewer_label}), {when}."


def closed_step(step_id) -> ApprovalStep | None:
    """The step a button is about, when it is no longer open (None otherwise)."""
    if not str(step_id).isdigit() or len(str(step_id)) > 18:
        return None
    step = ApprovalStep.objects.select_related("decided_by").filter(pk=int(step_id)).first()
    return step if step is not None and step.state != StepState.OPEN else None


def tell(channel: str, slack_user_id: str, text: str) -> None:
    """An ephemeral answer to the person who clicked (only they see it)."""
    if not channel:
        return
    try:
        client().chat_postEphemeral(channel=channel, user=slack_user_id, text=text)
    except (SlackClientError, OSError) as error:
        logger.warning("Slack ephemeral message failed: %s", error)


def handle_interaction(payload: dict) -> dict | None:
    """One signed interaction: a button in a decision message, or a reason modal submitted.
    Returns the JSON Slack expects back (None: an empty 200)."""
    slack_user_id = str((payload.get("user") or {}).get("id") or "")
    kind = payload.get("type")
    if kind == "block_actions":
        actions = payload.get("actions") or []
        if not actions:
            return None
        action = actions[0] or {}
        decision, step_id = action.get("action_id"), action.get("value")
        channel = str((payload.get("channel") or {}).get("id") or "")
        if decision not in ACTIONS:
            return None
        if not slack_user_id or user_for(slack_user_id) is None:
            tell(channel, slack_user_id, NOT_LINKED)  # nothing about the request, not even why
            return None
        closed = closed_step(step_id)
        if closed is not None:
            # A button of a message whose update has not reached Slack (yet): nothing is
            # decided, no reason form opens, the clicker learns how it closed, and the message
            # is settled.
            tell(channel, slack_user_id, f"Nothing was decided: {why_not_open(closed)}")
            settle_if_closed(closed.pk)
            return None
        if decision == "approve":
            _, answer = decide(step_id, decision, slack_user_id)
            tell(channel, slack_user_id, answer)
            return None
        if str(step_id).isdigit() and len(str(step_id)) < 19:
            step = ApprovalStep.objects.filter(pk=int(step_id)).first()
            if step is not None and payload.get("trigger_id"):
                try:
                    client().views_open(
                        trigger_id=str(payload["trigger_id"]),
                        view=reason_modal(step, decision, channel=channel),
                    )
                except (SlackClientError, OSError) as error:
                    logger.warning("Slack views.open failed: %s", error)
                    tell(channel, slack_user_id, "Tandem could not open the reason form.")
        return None
    if kind == "view_submission":
        view = payload.get("view") or {}
        if view.get("callback_id") != MODAL_CALLBACK:
            return None
        try:
            meta = json.loads(view.get("private_metadata") or "{}")
        except ValueError:
            meta = {}
        values = (view.get("state") or {}).get("values") or {}
        reason = ((values.get(REASON_BLOCK) or {}).get(REASON_INPUT) or {}).get("value") or ""
        decided, answer = decide(meta.get("step"), meta.get("decision"), slack_user_id, reason)
        if not decided:
            return {"response_action": "errors", "errors": {REASON_BLOCK: answer[:150]}}
        tell(str(meta.get("channel") or ""), slack_user_id, answer)
        return None
    return None
