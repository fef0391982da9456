"""The request id: one id per HTTP request, carried by every log line the request writes and by
the Celery tasks it causes (settings/celery.py passes it along in a message header)."""

import contextvars
import re
import uuid

HEADER = "X-Request-ID"
# The Celery message header that carries the id from the web process to the worker.
TASK_HEADER = "tandem_request_id"
# An id from a proxy or a client is honoured when it looks like one; anything else (too long,
# spaces, quotes, control characters) is replaced, so it cannot forge or break a log line.
_VALID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def new() -> str:
    return uuid.uuid4().hex


def clean(value: str | None) -> str:
    """The given id when it is acceptable, else a new one."""
    return value if value and _VALID.match(value) else new()


def get() -> str | None:
    return _current.get()


def set(value: str | None) -> contextvars.Token:  # noqa: A001 - mirrors ContextVar.set
    return _current.set(value)


def reset(token: contextvars.Token) -> None:
    _current.reset(token)
