"""Celery entry points: thin, they call the services."""

from celery import shared_task

from . import services


@shared_task
def deliver(delivery_id: int) -> bool:
    return services.deliver(delivery_id)


@shared_task
def deliver_due() -> int:
    """Retries what is due: failures after their backoff, deliveries left pending while the
    broker was down, and those whose worker died."""
    return sum(services.deliver(pk) for pk in services.due_ids())
