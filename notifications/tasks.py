"""Celery entry points: thin, they call the services."""

from celery import shared_task

from core import heartbeats

from . import services


@shared_task
def deliver(notification_id: int) -> bool:
    return services.deliver(notification_id)


@shared_task
def deliver_chunk(notification_ids: list[int]) -> int:
    """A sweep's many rows, one message per chunk: each row is claimed on its own, so a row
    delivered meanwhile is skipped and a worker dying mid-chunk loses nothing (the periodic
    `deliver_pending` takes up the rest)."""
    return sum(services.deliver(pk) for pk in notification_ids)


@shared_task
def deliver_pending() -> int:
    """Retries what is due: failed deliveries after their backoff, rows left pending while the
    broker was down, and deliveries whose worker died."""
    sent = sum(services.deliver(pk) for pk in services.undelivered_ids())
    heartbeats.record(heartbeats.DELIVERY)
    return sent
