"""Production's log: JSON on standard output (python-json-logger), one line per event, each
with its time, level, logger, message and the request id (and inside a Celery task the task's
name and id); exceptions are a field of the same line. No personal data beyond user ids:
e-mail addresses are masked (core.logging) and the request line names the user by id."""


def json_logging(level: str = "INFO") -> dict:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_context": {"()": "core.logging.RequestContextFilter"},
            "personal_data": {"()": "core.logging.PersonalDataFilter"},
            "outage_logged_once": {"()": "core.logging.OutageLoggedOnce"},
        },
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
                "datefmt": "%Y-%m-%dT%H:%M:%S%z",
                "json_ensure_ascii": False,
            }
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": "json",
                "filters": ["request_context", "personal_data"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Our request line replaces gunicorn's access log (which would log addresses).
            "tandem.request": {"level": "INFO"},
            # django.server is runserver's; django.request logs 4xx/5xx with the path only.
            "axes": {"level": "WARNING"},
            # An outage is two lines (core.outages), not one per request, probe or beat tick.
            "django.request": {"filters": ["outage_logged_once"]},
            "django_celery_beat.schedulers": {"filters": ["outage_logged_once"]},
            "gunicorn.error": {"level": level, "handlers": ["console"], "propagate": False},
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
        },
    }
