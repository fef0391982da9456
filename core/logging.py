"""The production log (JSON, one line per event, settings/production.py).

- `RequestContextFilter` adds the request id, and inside a Celery task the task's name and id.
- `PersonalDataFilter` keeps personal data out: the log may name users by id only, so e-mail
  addresses (which SMTP errors and some libraries put into messages) are masked.
- `OutageLoggedOnce` keeps an outage to the two lines of core.outages: Django (django.request)
  and django-celery-beat would log one, at ERROR, per request, probe and beat tick.
- `every_line_json()` (settings.LOG_JSON, from CoreConfig.ready) brings what the processes write
  outside logging into the same JSON lines: Celery's worker and beat, and uncaught exceptions.
  gunicorn's own lines go through the same configuration (gunicorn.conf.py's logconfig_dict)."""

import contextlib
import logging
import os
import re
import sys
import threading

from celery import current_task
from celery.signals import setup_logging

from . import outages, requestid

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


class OutageLoggedOnce(logging.Filter):
    """During an outage, Django logs every 503 at ERROR (django.request): each readiness probe
    and deep check that answers "failing", each page or API request that met a stopped database
    (with its traceback). django-celery-beat logs a traceback at every tick of beat while the
    database does not answer (it reads the schedule each time). These lines are dropped: the
    outage is logged once when it starts and once when it ends (core.outages), and each request
    keeps its own line (tandem.request, with its status). Any other line is kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(getattr(record, "request", None), outages.LOGGED, False):
            return False  # a 503 whose cause core.outages logged (outages.logged)
        error = record.exc_info[1] if record.exc_info else None
        # django-celery-beat's InterfaceError (a closed connection) comes without a traceback.
        interface_error = str(record.msg).startswith("DatabaseScheduler: InterfaceError")
        if record.name.startswith("django_celery_beat") and (
            outages.database_down(error) or interface_error
        ):
            outages.DATABASE.failed(error)
            return False
        return True


def axes_client_str(username, ip_address, user_agent, path_info, request) -> str:
    """django-axes names the client in its log lines by username and address; the production
    log carries neither (the lockouts themselves are in the database, see the admin)."""
    return f"a client of {path_info}"


def every_line_json() -> None:
    """What web, worker and beat write outside logging becomes JSON lines too: Celery keeps
    Django's LOGGING (`_celery_keeps_django_logging`), and an exception nobody caught (a failed
    `migrate` in web's command, a crashed thread) is logged instead of printed as a traceback."""
    setup_logging.connect(_celery_keeps_django_logging, weak=False)
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread


def _celery_keeps_django_logging(loglevel=None, **kwargs) -> None:
    """Celery's worker and beat send `setup_logging` before configuring logging themselves; with
    a receiver they configure nothing, so nothing writes in their text format: not the handlers
    they would add for task loggers and pool processes. Django's LOGGING is already applied
    (django.setup() ran, then CoreConfig.ready connected this). What Celery would still do that
    is worth keeping is done here: its --loglevel, the pool's errors (billiard logs them to a
    logger of its own), and stray writes to stdout and stderr as log lines (worker_redirect_*).
    The few lines the worker writes from its signal handlers ("worker: Warm shutdown
    (MainProcess)") bypass all of that: `say_as_json` writes them."""
    from celery import current_app
    from celery.apps import worker
    from celery.utils.log import get_multiprocessing_logger

    if loglevel:
        logging.getLogger().setLevel(loglevel)
    pool = get_multiprocessing_logger()
    pool.propagate = True
    pool.setLevel(logging.ERROR)
    conf = current_app.conf
    if conf.worker_redirect_stdouts:
        current_app.log.redirect_stdouts(conf.worker_redirect_stdouts_level)
    worker.safe_say = say_as_json


def say_as_json(message, f=None) -> None:
    """Celery's `safe_say` as one JSON line, on the terms of the original: it is called from
    signal handlers, which may interrupt a write to the same stream (a buffered stream then
    refuses, and a handler's lock could be held), so the line is formatted here with the root
    handlers' filters and formatter and written with one os.write to their file descriptor,
    without a lock. `f` (the stream Celery would print to) is not used: the log's is."""
    record = logging.LogRecord(
        "celery.apps.worker", logging.INFO, __file__, 0, str(message).strip("\n"), None, None
    )
    root = logging.getLogger()
    if record.levelno < root.getEffectiveLevel():
        return
    for handler in root.handlers:
        stream = getattr(handler, "stream", None)
        if stream is None or record.levelno < handler.level or not handler.filter(record):
            continue
        # As Celery's: losing the line must never stop a shutdown.
        with contextlib.suppress(OSError, ValueError):
            os.write(stream.fileno(), (handler.format(record) + "\n").encode())


uncaught_log = logging.getLogger("tandem.uncaught")


def _log_uncaught(kind, value, traceback) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, value, traceback)
        return
    uncaught_log.critical(
        "uncaught %s: %s", kind.__name__, value, exc_info=(kind, value, traceback)
    )


def _log_uncaught_in_thread(args) -> None:
    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread is not None else "?"
    uncaught_log.critical(
        "uncaught %s in thread %s: %s",
        args.exc_type.__name__,
        name,
        args.exc_value,
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
    )
