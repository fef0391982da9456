"""Logging filters for the production log (JSON, one line per event, settings/production.py).

- `RequestContextFilter` adds the request id, and inside a Celery task the task's name and id.
- `PersonalDataFilter` keeps personal data out: the log may name users by id only, so e-mail
  addresses (which SMTP errors and some libraries put into messages) are masked."""

import logging
import re

from celery import current_task

from . import requestid

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
MASK = "[e-mail]"


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = requestid.get() or "-"
        task = current_task._get_current_object() if current_task else None
        if task is not None and task.request.id and not getattr(record, "task_id", None):
            record.task_id = task.request.id
            record.task_name = task.name
        return True


class PersonalDataFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string is logged as it is
            return True
        if EMAIL.search(message):
            record.msg, record.args = EMAIL.sub(MASK, message), None
        if record.exc_info:
            # Render the traceback now, masked, and hand the formatter the text only (it would
            # render the exception again from exc_info, unmasked).
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = EMAIL.sub(MASK, record.exc_text)
        return True


def axes_client_str(username, ip_address, user_agent, path_info, request) -> str:
    """django-axes names the client in its log lines by username and address; the production
    log carries neither (the lockouts themselves are in the database, see the admin)."""
    return f"a client of {path_info}"
