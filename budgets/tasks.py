from celery import shared_task

from . import services


@shared_task(acks_late=True)
def renewal_schedule() -> dict:
    """Drafts due renewal requests and escalates undecided ones: idempotent by the database's
    unique (contract, term) key and the renewal's escalation claim."""
    return services.run_renewal_schedule()
