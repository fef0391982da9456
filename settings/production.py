"""Production: PostgreSQL from DATABASE_URL, Redis from CELERY_BROKER_URL, secrets only from the
environment. Refuses to start without SECRET_KEY."""

import logging

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import LOG_LEVEL, env
from .logging import json_logging

SECRET_KEY = env("SECRET_KEY", default="")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set in the environment for production.")
if "DATABASE_URL" not in env.ENVIRON:
    raise ImproperlyConfigured("DATABASE_URL must be set in the environment for production.")

DEBUG = False
# HTTPS only. Cookies are Secure, and their __Host- names make the browser refuse them unless
# they are Secure, host-only and for the whole site: a sibling subdomain cannot plant or
# overwrite Tandem's session or CSRF cookie. (HttpOnly, SameSite and the security headers are in
# base.py: every environment has them.)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken"
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True

# Logs: JSON lines on standard output (settings/logging.py), every line of web, worker and beat:
# Celery's worker and beat keep this configuration instead of installing their own text format,
# and what they write outside logging, like uncaught exceptions, is logged (core.logging).
LOGGING = json_logging(LOG_LEVEL)
LOG_JSON = True
logging.captureWarnings(True)  # warnings become log events (JSON) too
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# django-axes names clients by username and address in its log lines: not in production's log.
AXES_CLIENT_STR_CALLABLE = "core.logging.axes_client_str"

# Error reporting: Sentry when SENTRY_DSN is set (the official SDK, Django and Celery
# integrations), never with personal data (no cookies, bodies, users' names or addresses).
SENTRY_DSN = env("SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=env("SENTRY_ENVIRONMENT", default="production"),
        release=env("SENTRY_RELEASE", default=None),
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )
