"""Handing outbox rows to Celery after the commit that wrote them."""

import logging

from celery import current_app

logger = logging.getLogger(__name__)


def enqueue_each(task_name: str, ids, *, what: str) -> None:
    """Enqueues the task named `task_name` once per id. The task is looked up by name, so a
    service never imports its own tasks module (tasks import services, not the reverse); the
    app registers its tasks in its AppConfig.ready(). With the broker down the rows stay in
    their outbox and the periodic sweep sends them later: nothing waits on the broker."""
    task = current_app.tasks[task_name]
    for pk in ids:
        try:
            task.delay(pk)
        except Exception:  # noqa: BLE001 - any broker failure: the outbox keeps the row
            logger.warning("broker unavailable; %s %s waits for the periodic sweep", what, pk)
            return


def enqueue_chunks(task_name: str, ids, *, size: int, what: str) -> None:
    """Enqueues the task named `task_name` once per chunk of `size` ids: for the large batches
    (the reminder sweep's), where one broker message per row would cost more than writing the
    rows. Same fallback as `enqueue_each`: with the broker down the outbox keeps the rows."""
    task = current_app.tasks[task_name]
    ids = list(ids)
    for start in range(0, len(ids), size):
        try:
            task.delay(ids[start : start + size])
        except Exception:  # noqa: BLE001 - any broker failure: the outbox keeps the rows
            logger.warning("broker unavailable; %s from %s waits for the sweep", what, ids[start])
            return
