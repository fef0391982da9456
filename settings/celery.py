"""The Celery application; configuration comes from Django settings (CELERY_* names).

The request id of the web request (or task) that enqueues a task travels in a message header,
so the worker's log lines for that task carry the same id (core.requestid). A task that no
request caused (beat's schedules) logs under an id of its own."""

import os

from celery import Celery
from celery.signals import before_task_publish, task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.dev")

app = Celery("tandem")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

_tokens = {}


@before_task_publish.connect
def _pass_request_id(sender=None, headers=None, **kwargs):
    from core import requestid

    request_id = requestid.get()
    if request_id and headers is not None:
        headers.setdefault(requestid.TASK_HEADER, request_id)


@task_prerun.connect
def _bind_request_id(sender=None, task_id=None, task=None, **kwargs):
    from core import requestid

    request = task.request if task is not None else None
    request_id = getattr(request, requestid.TASK_HEADER, None) or (
        (getattr(request, "headers", None) or {}).get(requestid.TASK_HEADER)
    )
    # An eager task (tests) runs inside its caller: it keeps the caller's id.
    request_id = request_id or requestid.get() or task_id
    _tokens[task_id] = requestid.set(requestid.clean(request_id))


@task_postrun.connect
def _unbind_request_id(sender=None, task_id=None, **kwargs):
    from core import requestid

    token = _tokens.pop(task_id, None)
    if token is not None:
        try:
            requestid.reset(token)
        except ValueError:  # set in another context (a thread pool): just clear it
            requestid.set(None)
