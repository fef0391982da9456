"""Settings of the load test's processes (gunicorn and the Celery workers): production's, on
the load test's own database and Redis, with e-mail counted instead of sent (bench/load/mail.py)
and plain HTTP (no TLS proxy in front)."""

from settings.production import *  # noqa: F403

EMAIL_BACKEND = "bench.load.mail.CountingBackend"
SECURE_SSL_REDIRECT = False
AXES_ENABLED = False
# No collectstatic for a load test: the API and e-mails need no hashed file names.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
