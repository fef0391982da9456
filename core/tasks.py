"""Handing outbox rows to Celery after the commit that wrote them.

Every row handed over here is already written (notifications and webhook deliveries wait in
their outbox for a periodic task; a Slack message is settled again when its step is next looked
at): a publish is only the fast path. A publish that fails (the broker stopped, or frozen: the
timeouts in settings.base end it after a second) leaves the rows waiting, and the request that
wrote them succeeds. After a failure the process leaves the broker alone for a while
(core.outages), so an outage costs one request per process a second, not every request."""

import logging

from celery import current_app
from django.conf import settings
from kombu.exceptions import OperationalError

from .outages import Pause

logger = logging.getLogger(__name__)
# What a publish raises when the broker is unreachable or does not answer in time.
BROKER_FAILURES = (OperationalError, ConnectionError, TimeoutError, OSError)

# The periodic delivery (every minute) takes the rows meanwhile.
BROKER = Pause(
    "the Celery broker",
    seconds=settings.TANDEM_BROKER_PAUSE_SECONDS,
    fallback="new work waits in the outbox for the periodic delivery",
)


def _publish(task, *arguments) -> bool:
    """True when the broker took the message; False when the outbox keeps it."""
    if BROKER.active():
        return False
    try:
        task.delay(*arguments)
    except BROKER_FAILURES as error:
        BROKER.failed(error)
        return False
    except Exception:  # noqa: BLE001 - whatever else failed, the outbox keeps the rows
        logger.warning("%s could not be queued; the outbox keeps it", task.name, exc_info=True)
        return False
    BROKER.answered()
    return True


def enqueue(task_name: str) -> None:
    """Enqueues the task named `task_name`, which takes no argument and works from what is
    written (the audit sealer): a failed publish is left to the task's periodic run."""
    _publish(current_app.tasks[task_name])


def enqueue_each(task_name: str, ids, *, what: str) -> None:
    """Enqueues the task named `task_name` once per id. The task is looked up by name, so a
    service never imports its own tasks module (tasks import services, not the reverse); the
    app registers its tasks in its AppConfig.ready(). With the broker down the rows (`what`)
    stay in their outbox and the periodic sweep sends them later: nothing waits on the broker."""
    task = current_app.tasks[task_name]
    for pk in ids:
        if not _publish(task, pk):
            return


def enqueue_chunks(task_name: str, ids, *, size: int, what: str) -> None:
    """Enqueues the task named `task_name` once per chunk of `size` ids: for the large batches
    (the reminder sweep's), where one broker message per row would cost more than writing the
    rows. Same fallback as `enqueue_each`: with the broker down the outbox keeps the rows."""
    task = current_app.tasks[task_name]
    ids = list(ids)
    for start in range(0, len(ids), size):
        if not _publish(task, ids[start : start + size]):
            return
