"""Celery entry points: thin, they call the services."""

import logging

from celery import shared_task

from . import sealer, services
from .signing import SigningKeyMissing

logger = logging.getLogger(__name__)


@shared_task(autoretry_for=(OSError,), retry_backoff=60, max_retries=5)
def daily_checkpoint() -> int | None:
    """Signs today's checkpoint of the audit chain and mails it to the admins (once a day: a
    second run or a second scheduler finds it made and sends nothing). Returns its sequence."""
    try:
        checkpoint, created = services.create_checkpoint()
    except SigningKeyMissing as error:
        logger.error("audit checkpoint not signed: %s", error)
        return None
    if created:
        services.mail_checkpoint(checkpoint)
    return checkpoint.sequence


@shared_task
def seal_chain() -> int:
    """Chains the events written since the last seal (audit.sealer); returns how many. Sent
    after each commit that records events, and by beat every ten seconds."""
    return sealer.seal_pending()
