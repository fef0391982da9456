"""Settings shared by every environment; each value that differs per deployment comes from the
environment (django-environ), with the embedded defaults of `settings.dev` when unset."""

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from csp.constants import NONCE, NONE, SELF, UNSAFE_HASHES
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

SECRET_KEY = env("SECRET_KEY", default="")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # Django's admin with its index in sections of what an admin configures (core.admin_site).
    "core.admin_site.TandemAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_celery_beat",
    "axes",
    "csp",
    "django_prometheus",
    # Sign-in with the company's identity provider (OpenID Connect), two-factor codes for local
    # passwords, and a record of each person's sessions (docs/administer/sso.md).
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.mfa",
    "allauth.usersessions",
    # allauth's templates load `humanize` ("2 hours ago"): the list of sessions (auth/sessions/).
    "django.contrib.humanize",
    "core",
    "accounts",
    "audit",
    "vendors",
    "intake",
    "budgets",
    "approvals",
    "notifications",
    "webhooks",
    "insights",
    "operations",
    "reach",
    "calendars",
]

MIDDLEWARE = [
    # First: every response, and every log line of the request, carries its id.
    "core.middleware.RequestIdMiddleware",
    # /healthz, /readyz and /metrics answer here, before sign-in, host check and HTTPS redirect.
    "operations.middleware.OperationsEndpointsMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # django-csp's, with the identity provider's origins in form-action (accounts.sso).
    "accounts.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After whitenoise: static files stay cacheable, everything else is no-store.
    "core.middleware.NoStoreMiddleware",
    "core.middleware.RequestSizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "core.middleware.LoginRequiredMiddleware",
    "calendars.middleware.ViewerTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A signed-in person the admin does not let in gets a 403 page, not its sign-in loop.
    "accounts.middleware.AdminForAdminsOnlyMiddleware",
    # Staff, CIO and CPO who signed in with a password set up two-factor codes before anything.
    "accounts.middleware.TwoFactorRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "settings.urls"
WSGI_APPLICATION = "settings.wsgi.application"
ASGI_APPLICATION = "settings.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.roles",
                "notifications.context_processors.unread",
                "approvals.context_processors.waiting_count",
                "budgets.context_processors.renewals_nav",
                "budgets.context_processors.budgets_nav",
            ],
            # money, when, day, role_label: one way to show them on every page and e-mail.
            "builtins": ["core.templatetags.tandem"],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# Survive a PostgreSQL restart: a dropped persistent connection is noticed and replaced.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share the embedded database: write-ahead logging lets them read while
    # one writes, and IMMEDIATE transactions take the write lock up front instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "intake:my-requests"
LOGOUT_REDIRECT_URL = "login"

# django-axes first: it refuses a locked-out username+address before any password is checked.
# Then Django's password check, which refuses local passwords in SSO-only mode (accounts.backends).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.PasswordBackend",
]

# Sign-in with the company's identity provider (docs/administer/sso.md): OpenID Connect through
# django-allauth, configured from the environment. Without an issuer there is no SSO button
# and people sign in with their Tandem passwords as before.
TANDEM_OIDC_ISSUER = env("TANDEM_OIDC_ISSUER", default="")
TANDEM_OIDC_CLIENT_ID = env("TANDEM_OIDC_CLIENT_ID", default="")
TANDEM_OIDC_CLIENT_SECRET = env("TANDEM_OIDC_CLIENT_SECRET", default="")
# What the button says: "Sign in with <name>".
TANDEM_OIDC_NAME = env("TANDEM_OIDC_NAME", default="your company account")
TANDEM_OIDC_SCOPES = env.list("TANDEM_OIDC_SCOPES", default=["openid", "profile", "email"])
# The claim naming the person's department (by name or cost centre) when no mapping does; each
# claim mapping (admin) names its own claim, usually "groups".
TANDEM_OIDC_DEPARTMENT_CLAIM = env("TANDEM_OIDC_DEPARTMENT_CLAIM", default="department")
# The part of the redirect URL naming the provider: <site>/auth/oidc/<id>/login/callback/.
TANDEM_OIDC_PROVIDER_ID = "company"
if TANDEM_OIDC_ISSUER and not (TANDEM_OIDC_CLIENT_ID and TANDEM_OIDC_CLIENT_SECRET):
    raise ImproperlyConfigured(
        "TANDEM_OIDC_ISSUER is set: set TANDEM_OIDC_CLIENT_ID and TANDEM_OIDC_CLIENT_SECRET too."
    )
# SSO-only: local passwords are refused, except for these break-glass admins' usernames.
TANDEM_SSO_ONLY = env.bool("TANDEM_SSO_ONLY", default=False)
TANDEM_BREAK_GLASS_ADMINS = env.list("TANDEM_BREAK_GLASS_ADMINS", default=[])
# Two-factor codes (TOTP) for staff, CIO and CPO who sign in with a password: on by default,
# off in settings.dev and settings.test (the demo users and browser tests sign in with passwords).
TANDEM_REQUIRE_MFA = env.bool("TANDEM_REQUIRE_MFA", default=True)
# The reviewer's queue kept per reader until the data it shows changes (approvals.queue_cache,
# PostgreSQL); off, it is worked out on every call (the benchmark measures both).
QUEUE_CACHE = env.bool("QUEUE_CACHE", default=True)


def oidc_providers(issuer, client_id, secret, name, scopes) -> dict:
    """allauth's provider settings for one OpenID Connect provider, or none without an issuer."""
    if not issuer:
        return {}
    app = {
        "provider_id": TANDEM_OIDC_PROVIDER_ID,
        "name": name,
        "client_id": client_id,
        "secret": secret,
        "settings": {
            "server_url": issuer,
            "scope": list(scopes),
            "oauth_pkce_enabled": True,
        },
    }
    return {"openid_connect": {"APPS": [app]}}


SOCIALACCOUNT_PROVIDERS = oidc_providers(
    TANDEM_OIDC_ISSUER,
    TANDEM_OIDC_CLIENT_ID,
    TANDEM_OIDC_CLIENT_SECRET,
    TANDEM_OIDC_NAME,
    TANDEM_OIDC_SCOPES,
)
ACCOUNT_ADAPTER = "accounts.sso.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "accounts.sso.SocialAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "password1*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
# The provider's `sub` names the person; two people may share an address at the provider.
ACCOUNT_UNIQUE_EMAIL = False
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = False
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_LOGIN_ON_GET = False
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Tandem"
# A code of the 30-second window before or after the current one is accepted too (RFC 6238's
# advice for network delay): somebody typing as the window turns, or a client whose clock is a
# few seconds off, is not refused. Each code still works once.
MFA_TOTP_TOLERANCE = 1

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"  # stored and compared in UTC; shown in each user's own time zone
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
# Front-end packages come from npm (package.json) and are served by whitenoise from here.
STATICFILES_DIRS = [
    ("vendor/bootstrap", BASE_DIR / "node_modules/bootstrap/dist"),
    ("vendor/bootstrap-icons", BASE_DIR / "node_modules/bootstrap-icons/font"),
    ("vendor/htmx", BASE_DIR / "node_modules/htmx.org/dist"),
    ("vendor/chart.js", BASE_DIR / "node_modules/chart.js/dist"),
    BASE_DIR / "static",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "media")
MEDIA_URL = "/media/"  # never served directly: attachments go through a permission-checked view

# Uploads: attachments and certificates, each at most 10 MB, together at most 50 MB per
# purchase request. Request bodies: at most 12 MB (JSON, forms), 60 MB for file uploads; larger
# ones are refused with 413 before they are read (core.middleware.RequestSizeLimitMiddleware).
TANDEM_MAX_UPLOAD_BYTES = 10 * 1024 * 1024
TANDEM_MAX_ATTACHMENT_BYTES_PER_REQUEST = 50 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
TANDEM_MAX_REQUEST_BYTES = 60 * 1024 * 1024
TANDEM_BASE_CURRENCY = env("TANDEM_BASE_CURRENCY", default="EUR")
# Budgets and renewals (SPEC §8a): the month fiscal years start in, how many days before a
# contract's notice deadline its renewal request is drafted, and when an undecided renewal
# is escalated to the CIO and the CPO.
TANDEM_FISCAL_YEAR_START_MONTH = env.int("TANDEM_FISCAL_YEAR_START_MONTH", default=1)
if not 1 <= TANDEM_FISCAL_YEAR_START_MONTH <= 12:
    raise ImproperlyConfigured("TANDEM_FISCAL_YEAR_START_MONTH must be a month, 1 to 12.")
TANDEM_RENEWAL_LEAD_DAYS = env.int("TANDEM_RENEWAL_LEAD_DAYS", default=90)
TANDEM_RENEWAL_ESCALATE_DAYS = env.int("TANDEM_RENEWAL_ESCALATE_DAYS", default=7)
TANDEM_SITE_URL = env("TANDEM_SITE_URL", default="http://127.0.0.1:8000")
# Optional Slack or Teams incoming webhook; its failures are retried and never block anything.
TANDEM_WEBHOOK_URL = env("TANDEM_WEBHOOK_URL", default="")
# urllib would also open file: and other schemes: only a web address is a webhook.
if TANDEM_WEBHOOK_URL and urlsplit(TANDEM_WEBHOOK_URL).scheme not in ("http", "https"):
    raise ImproperlyConfigured("TANDEM_WEBHOOK_URL must be an http:// or https:// address.")
# Optional URL (a Slack incoming webhook, or any endpoint taking {"text": …}) that also gets
# every admin alert, posted by beat itself, without the worker or the broker (operations.alerts).
# Set by the operator, so it may be an internal address: no public-address rule applies.
TANDEM_ALERT_WEBHOOK_URL = env("TANDEM_ALERT_WEBHOOK_URL", default="")
if TANDEM_ALERT_WEBHOOK_URL and urlsplit(TANDEM_ALERT_WEBHOOK_URL).scheme not in ("http", "https"):
    raise ImproperlyConfigured("TANDEM_ALERT_WEBHOOK_URL must be an http:// or https:// address.")
# The working hours of reviewer groups without a calendar of their own (the admin's "Working
# hours" calendars override it per group): SLAs, reminders and escalations count only these.
TANDEM_WORKING_HOURS = {
    "TIME_ZONE": env("TANDEM_WORKING_TIME_ZONE", default="UTC"),
    # 0 is Monday: Monday to Friday by default
    "WEEKDAYS": env.list("TANDEM_WORKING_DAYS", cast=int, default=[0, 1, 2, 3, 4]),
    "STARTS": env("TANDEM_WORK_STARTS", default="09:00"),
    "ENDS": env("TANDEM_WORK_ENDS", default="17:00"),
    "HOLIDAY_COUNTRY": env("TANDEM_HOLIDAY_COUNTRY", default=""),
    "HOLIDAY_REGION": env("TANDEM_HOLIDAY_REGION", default=""),
}
# Seconds after which a notification claimed by a worker that died is delivered again.
TANDEM_DELIVERY_CLAIM_TIMEOUT = env.int("TANDEM_DELIVERY_CLAIM_TIMEOUT", default=600)
# Ed25519 key signing the audit trail's daily checkpoints (`manage.py audit_keygen` makes one):
# the 32-byte raw private key in base64, or a PKCS#8 PEM. Without it no checkpoint is signed.
TANDEM_AUDIT_SIGNING_KEY = env("TANDEM_AUDIT_SIGNING_KEY", default="")
# Outbound webhooks (admin: Webhook endpoints) go only to public addresses; set this to allow
# private and loopback ones (an ERP inside the company network, or a local test receiver).
TANDEM_WEBHOOKS_ALLOW_PRIVATE = env.bool("TANDEM_WEBHOOKS_ALLOW_PRIVATE", default=False)
# How long a webhook delivery is retried (exponential backoff with jitter) before giving up.
TANDEM_WEBHOOK_RETRY_HOURS = env.int("TANDEM_WEBHOOK_RETRY_HOURS", default=72)
# Hours after which an unanswered second-opinion question is reminded (once) to the colleague.
TANDEM_CONSULTATION_REMIND_AFTER_HOURS = env.int(
    "TANDEM_CONSULTATION_REMIND_AFTER_HOURS", default=24
)

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(BASE_DIR / "var" / "mail"))
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Tandem <tandem@localhost>")

# Deciding from e-mail and Slack (reach app; docs/administer/email.md, docs/administer/slack.md).
# Personal decision links last this many days (and end when their step closes).
TANDEM_DECISION_LINK_DAYS = env.int("TANDEM_DECISION_LINK_DAYS", default=7)
# Replies: the address replies go to; each e-mail's reply-to is <local>+<token>@<domain>.
# Empty: e-mails carry no reply-to and only the link decides.
TANDEM_INBOUND_ADDRESS = env("TANDEM_INBOUND_ADDRESS", default="")
# authserv-ids of the receiving mail servers whose Authentication-Results header (dmarc=pass)
# Tandem trusts; none: no reply decides anything.
TANDEM_INBOUND_TRUSTED_AUTHSERV_IDS = env.list("TANDEM_INBOUND_TRUSTED_AUTHSERV_IDS", default=[])
# The SMTP receiver (`manage.py receive_mail`).
TANDEM_INBOUND_SMTP_HOST = env("TANDEM_INBOUND_SMTP_HOST", default="127.0.0.1")
TANDEM_INBOUND_SMTP_PORT = env.int("TANDEM_INBOUND_SMTP_PORT", default=2525)
TANDEM_INBOUND_SMTP_HOSTNAME = env("TANDEM_INBOUND_SMTP_HOSTNAME", default="")
TANDEM_INBOUND_MAX_BYTES = env.int("TANDEM_INBOUND_MAX_BYTES", default=1024 * 1024)
# Slack app: bot token (xoxb-…) and signing secret; both set, "for your decision" also goes to
# the reviewer's Slack DM. The API address is configurable for tests (a local stand-in).
TANDEM_SLACK_BOT_TOKEN = env("TANDEM_SLACK_BOT_TOKEN", default="")
TANDEM_SLACK_SIGNING_SECRET = env("TANDEM_SLACK_SIGNING_SECRET", default="")
TANDEM_SLACK_API_URL = env("TANDEM_SLACK_API_URL", default="https://slack.com/api/")

REST_FRAMEWORK = {
    # Tokens first, so that a request without credentials gets 401 with WWW-Authenticate.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Named, scoped, expiring, hashed tokens (accounts.tokens): Authorization: Bearer tdm_…
        "accounts.tokens.ApiTokenAuthentication",
        # DRF's old unscoped tokens (Authorization: Token …): a 401 naming the replacement.
        "accounts.tokens.LegacyTokenRefusal",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["core.api.FilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    # JSON with a nesting limit (400 instead of a RecursionError), forms and uploads.
    "DEFAULT_PARSER_CLASSES": [
        "core.api.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    # The browsable API's forms list at most this many choices of a related field (a vendor
    # among thousands is given by id): a page of requests stays a page, not every vendor.
    "HTML_SELECT_CUTOFF": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Tandem API",
    "DESCRIPTION": "IT purchase intake and joint CIO-CPO approval.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Swagger UI from the drf-spectacular-sidecar package: no CDN at run time.
    "SWAGGER_UI_DIST": "SIDECAR",
    # The ways to authenticate: scoped tokens and the session (the legacy-token refusal is not
    # one, it only answers old clients).
    "AUTHENTICATION_WHITELIST": [
        "accounts.tokens.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Two serializers show a certificate's kind, one a rule's: name the enums, or the schema
    # warns (drf_spectacular.W001) and `check --deploy` is not clean.
    "ENUM_NAME_OVERRIDES": {
        "CertificateKindEnum": "vendors.models.CertificateType",
        "RuleKindEnum": "approvals.models.RuleKind",
        "PurchaseStateEnum": "intake.models.State",
        "DeliveryEnum": "notifications.models.Delivery",
    },
}


# The cache keeping the reviewer's queue and the leaders' figures (approvals.queue_cache,
# insights.selectors). With CACHE_URL (a Redis database, e.g. redis://redis:6379/1) every
# worker process shares one; without it each process keeps its own, in memory. A Redis that
# does not answer is a miss, never an error: the page is worked out instead (django-redis's
# IGNORE_EXCEPTIONS). Each cache call gives up after half a second, to connect and to
# get an answer, and after a failure the process does not ask Redis again for 15 s (core.cache):
# a stopped or frozen Redis (SIGSTOP, a network partition) costs one page half a second, never
# a web worker. The failure and the recovery are logged once each (core.outages), not a
# traceback per miss.
def redis_cache(url: str) -> dict:
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": url,
        "KEY_PREFIX": "tandem",
        "OPTIONS": {
            "IGNORE_EXCEPTIONS": True,
            "SOCKET_CONNECT_TIMEOUT": 0.5,
            "SOCKET_TIMEOUT": 0.5,
            # After a failed call the process leaves Redis alone for 15 s (core.cache).
            "CONNECTION_FACTORY": "core.cache.PausingConnectionFactory",
        },
    }


CACHE_URL = env("CACHE_URL", default="")
if CACHE_URL:
    CACHES = {"default": redis_cache(CACHE_URL)}
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = False

# Celery: JSON only, acknowledged after the work is done, re-queued if the worker dies.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/0")
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
# The audit sealer (audit.sealer) has a queue of its own, so a backlog of e-mails never delays
# the chain. A worker started without -Q takes both queues; compose runs a sealer on `audit`.
CELERY_TASK_QUEUES = (Queue("celery"), Queue("audit"))
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {"audit.tasks.seal_chain": {"queue": "audit"}}
# A stalled broker never holds a web worker (issue 30). Every publish gives up after a second:
# connecting (socket_connect_timeout, broker_connection_timeout) and waiting for Redis's answer
# (socket_timeout; without it a frozen Redis blocks a publish forever), and it is not retried
# (max_retries 0: each retry would cost another second). Every publish is made after the commit
# of rows that an outbox already holds (core.tasks): a failed one is logged and left to the
# periodic delivery, and the user sees their action succeed. The worker and beat use the same
# timeouts; kombu's health checks keep their long-lived connections alive.
BROKER_TIMEOUT_SECONDS = 1
# After a failed publish a process leaves the broker alone this long (core.tasks.BROKER).
TANDEM_BROKER_PAUSE_SECONDS = env.int("TANDEM_BROKER_PAUSE_SECONDS", default=15)
CELERY_BROKER_CONNECTION_TIMEOUT = BROKER_TIMEOUT_SECONDS
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": BROKER_TIMEOUT_SECONDS,
    "socket_timeout": BROKER_TIMEOUT_SECONDS,
}
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 0,
    "interval_start": 0,
    "interval_step": 0,
    "interval_max": 0,
}
# django-celery-beat's DatabaseScheduler, plus a heartbeat and the admin alerts (operations).
CELERY_BEAT_SCHEDULER = "operations.scheduler:HeartbeatScheduler"
CELERY_TIMEZONE = "UTC"

# Login throttling (SPEC §9): five failed sign-ins for one username from one address lock that
# pair out for 15 minutes (the sign-in page, and the API token endpoint, which authenticates the
# same way). Other users, and the same user from elsewhere, can still sign in; a success clears
# the count. Attempts and successful sign-ins are kept in the database (admin: "Axes").
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_HTTP_RESPONSE_CODE = 429
# The sign-in page again, status 429, with the lockout explained by the layout.
AXES_LOCKOUT_TEMPLATE = "registration/login.html"
# The address is REMOTE_ADDR (django-ipware is not installed), which a client cannot choose.
# Behind a reverse proxy that is the proxy's address: the lockout then holds per username.

# Cookies: the session cookie is never readable by scripts, and neither is the CSRF cookie: the
# layout hands the token to htmx through `hx-headers` (and forms through {% csrf_token %}), so no
# script needs the cookie. Lax keeps both off cross-site subrequests and POSTs.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"

# Response headers on every page (SecurityMiddleware, XFrameOptionsMiddleware).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp 4): everything from this origin, nothing inline. Scripts
# are static files (templates carry data-* attributes, static/js/ acts on them); images may be
# data: URIs because Bootstrap's CSS draws its icons that way.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        # htmx's own indicator styles come in a <style> element carrying the request's nonce;
        # the API docs page has one fixed <style> element (drf-spectacular's swagger_ui.html).
        "style-src": [SELF, NONCE, "'sha256-MMpT0iDxyjALd9PdfepImGX3DBfJPXZ4IlDWdPAgtn0='"],
        # Style attributes: only these exact values, the column widths of the line items table
        # (templates/intake/request_form.html); drop them once those widths live in tandem.css.
        "style-src-attr": [
            UNSAFE_HASHES,
            "'sha256-omJEqTdGKv5dnU3NtUymv2Zf/UcUAbl604XEtv2FmwY='",  # width: 9rem
            "'sha256-TpCH/M+VzcIBKLX3vwbEPfg8LZV0Yy3v07Ui9/56Ejc='",  # width: 11rem
            "'sha256-WN3du21SyEMLJ0//gMXXZPVOPT6gU0hJ22IOxIV3Kvc='",  # width: 5rem
        ],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        # And the identity provider's origins, added per response from its configuration
        # (accounts.middleware.ContentSecurityPolicyMiddleware).
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Operations (docs/operate/metrics.md): /metrics answers only with this bearer token, and not at
# all when it is empty.
METRICS_TOKEN = env("METRICS_TOKEN", default="")

LOG_LEVEL = env("LOG_LEVEL", default="INFO")
# Production's JSON lines also for what the processes write outside logging (core.logging).
LOG_JSON = False
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"outage_logged_once": {"()": "core.logging.OutageLoggedOnce"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # One line per request (core.middleware.RequestIdMiddleware): production's access log;
        # runserver prints its own in development.
        "tandem.request": {"level": "WARNING"},
        # An outage is two lines (core.outages), not one per request, probe or beat tick.
        "django.request": {"filters": ["outage_logged_once"]},
        "django_celery_beat.schedulers": {"filters": ["outage_logged_once"]},
    },
}
