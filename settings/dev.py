"""The embedded default: SQLite, e-mail on the console, and a Celery broker that needs no
server (kombu's filesystem transport), so `make run` works with nothing but Python."""

from .base import *  # noqa: F403
from .base import BASE_DIR, env

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env("SECRET_KEY", default="dev-only-insecure-key-do-not-use-in-production")
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
# Replies by e-mail work on this machine: send them to the receiver `make run` starts
# (127.0.0.1:2525) with an Authentication-Results header from "localhost"
# (docs/administer/email.md).
TANDEM_INBOUND_ADDRESS = env("TANDEM_INBOUND_ADDRESS", default="decide@tandem.localhost")
TANDEM_INBOUND_TRUSTED_AUTHSERV_IDS = env.list(
    "TANDEM_INBOUND_TRUSTED_AUTHSERV_IDS", default=["localhost"]
)

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
_celery_queue = BASE_DIR / "var" / "celery"
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "data_folder_in": str(_celery_queue / "queue"),
    "data_folder_out": str(_celery_queue / "queue"),
    "processed_folder": str(_celery_queue / "processed"),
    "control_folder": str(_celery_queue / "control"),
    "store_processed": False,
}
for _folder in ("queue", "processed", "control"):
    (_celery_queue / _folder).mkdir(parents=True, exist_ok=True)

# Served straight from node_modules and static/ without collectstatic.
WHITENOISE_USE_FINDERS = True
STATIC_ROOT = None  # no collectstatic outside production: whitenoise serves from the finders
WHITENOISE_AUTOREFRESH = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Two-factor codes are not asked of the demo users and test users who sign in with passwords;
# tests that check them turn this on (docs/administer/sso.md).
TANDEM_REQUIRE_MFA = env.bool("TANDEM_REQUIRE_MFA", default=False)
