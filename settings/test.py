"""Settings for pytest: SQLite unless DATABASE_URL names another database (CI runs both)."""

from .base import *  # noqa: F403
from .base import BASE_DIR, env

SECRET_KEY = "test-only-key"
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = BASE_DIR / "var" / "test-media"
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="memory://")
# Unit tests run tasks in-process; the integration tests start a real worker and beat.
CELERY_TASK_ALWAYS_EAGER = True
ALLOWED_HOSTS = ["*"]
# Each test process keeps its own cache, whatever CACHE_URL says (tests/approvals/
# test_queue_cache.py tries the shared one, against a private Redis).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
WHITENOISE_USE_FINDERS = True
STATIC_ROOT = None  # no collectstatic outside production: whitenoise serves from the finders
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# django-axes logs every sign-in at INFO; in tests that is noise around every failure.
LOGGING = {**LOGGING, "loggers": {**LOGGING["loggers"], "axes": {"level": "WARNING"}}}  # noqa: F405
# Two-factor codes are not asked of the demo users and test users who sign in with passwords;
# tests that check them turn this on (docs/administer/sso.md).
TANDEM_REQUIRE_MFA = False
# Most tests count SLAs in elapsed hours; the working-hours tests give their groups a calendar
# (or override this default) to prove the clock of Monday to Friday, holidays and closures.
TANDEM_WORKING_HOURS = {
    "TIME_ZONE": "UTC",
    "WEEKDAYS": [0, 1, 2, 3, 4, 5, 6],
    "STARTS": "00:00",
    "ENDS": "00:00",
}
