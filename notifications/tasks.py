"""Celery entry points: thin, they call the services."""

from celery import shared_task

from core import heartbeats

from . import digests, services


@shared_task
def deliver_chunk(notification_ids: list[int]) -> int:
    """Rows to deliver, one message per chunk: a row delivered meanwhile is skipped, and a
    worker dying mid-chunk loses nothing (the periodic `deliver_pending` takes up the rest)."""
    return services.deliver_many(notification_ids)


@shared_task
def deliver_pending() -> int:
    """Retries what is due: failed deliveries after their backoff, rows left pending while the
    broker was down, and deliveries whose worker died."""
    due = services.undelivered_ids()
    sent = sum(
        services.deliver_many(due[start : start + services.CHUNK])
        for start in range(0, len(due), services.CHUNK)
    )
    heartbeats.record(heartbeats.DELIVERY)
    return sent


@shared_task
def send_digests() -> int:
    """Hourly: the daily digest of each person whose day has reached its hour; a second run (or
    a second scheduler) sends nothing twice (one claimed row per person and day)."""
    return digests.send_digests()
