"""Celery entry points: thin, they call the services."""

import base64

from celery import shared_task

from . import inbound, slack
from .models import SlackMessage


@shared_task(acks_late=True)
def receive_reply(raw_base64: str, envelope_recipients: list[str]) -> str:
    """One e-mail handed over by the SMTP receiver (`manage.py receive_mail`). Handled once:
    a repeat of the same message is recognised by its Message-ID."""
    return inbound.handle(base64.b64decode(raw_base64), envelope_recipients)


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=8)
def update_slack_message(message_id: int) -> None:
    """Shows who decided in one reviewer's Slack message of a settled step."""
    message = SlackMessage.objects.select_related("step__request", "step__vendor").filter(
        pk=message_id
    )
    message = message.first()
    if message is not None and message.settled_note:
        slack.update_message(message)
