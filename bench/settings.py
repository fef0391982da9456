"""Settings for the benchmarks: the dev settings on the PostgreSQL of DATABASE_URL (default: a
local `tandem_bench` database), with the floor views of bench/urls.py mounted."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tandem_bench")

from settings.dev import *  # noqa: E402, F403

DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "bench.urls"
CELERY_BROKER_URL = "memory://"  # notifications are written; nobody needs them delivered
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
AXES_ENABLED = False
