import logging
import time
import zoneinfo

import sentry_sdk
from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequired
from django.utils import timezone
from django.utils.cache import add_never_cache_headers

from core.http import body_limit, too_large_response

from . import outages, requestid

request_log = logging.getLogger("tandem.request")
# Probed every few seconds by healthchecks and Prometheus: logged only when they fail.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/healthz/deep", "/metrics"})


class LoginRequiredMiddleware(DjangoLoginRequired):
    """Login everywhere but sign-in, except under /api/: DRF authenticates there itself (token
    or session) and answers 401/403 instead of redirecting to the sign-in page."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class UserTimezoneMiddleware:
    """Times are stored in UTC and shown in the signed-in user's own time zone; without one,
    in the zone `fallback_zone(user)` gives (none here: UTC)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def fallback_zone(self, user) -> str:
        return ""

    def __call__(self, request):
        user = getattr(request, "user", None)
        time_zone = ""
        if user and user.is_authenticated:
            time_zone = getattr(user, "time_zone", "") or self.fallback_zone(user)
        try:
            timezone.activate(zoneinfo.ZoneInfo(time_zone)) if time_zone else timezone.deactivate()
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()
        return self.get_response(request)


class RequestSizeLimitMiddleware:
    """Refuses a body larger than Tandem reads (core.http.body_limit) with 413, by its declared
    length, before anything reads it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # Django reads such a body as empty
        limit = body_limit(request)
        if length > limit:
            return too_large_response(request, limit)
        return self.get_response(request)


class NoStoreMiddleware:
    """`Cache-Control: no-store` (and its older equivalents) on every answer Django gives: pages,
    API responses and downloads show one person's data, which no browser or proxy may keep.
    Static files are served before this (whitenoise) and stay cacheable."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        add_never_cache_headers(response)
        return response


class RequestIdMiddleware:
    """Gives every request an id: the proxy's or client's `X-Request-ID` when it looks like one,
    else a new one. Log lines written while the request runs carry it (core.logging), so do the
    Celery tasks it enqueues (settings/celery.py), and the response returns it in `X-Request-ID`.
    Writes one log line per request: method, path without the query string, status, duration
    and the user's id (never a name, an address or the query, which may hold personal data)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = requestid.clean(request.headers.get(requestid.HEADER))
        request.request_id = request_id
        token = requestid.set(request_id)
        started = time.monotonic()
        try:
            _tag_sentry(request_id)
            response = self.get_response(request)
            response[requestid.HEADER] = request_id
            quiet = request.path.rstrip("/") in QUIET_PATHS and response.status_code < 400
            request_log.log(
                logging.DEBUG if quiet else logging.INFO,
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                    "user_id": _user_id(request),
                },
            )
            return response
        finally:
            requestid.reset(token)


def _user_id(request) -> int | None:
    """The signed-in user's id; None for an anonymous request, and for one the database did
    not answer (reading the user needs the session: the line is written all the same)."""
    user = getattr(request, "user", None)
    try:
        return user.pk if user is not None and user.is_authenticated else None
    except outages.DATABASE_DOWN:
        return None


def _tag_sentry(request_id: str) -> None:
    """Sentry's events name the request id too (a no-op when Sentry is not configured)."""
    sentry_sdk.get_isolation_scope().set_tag("request_id", request_id)
