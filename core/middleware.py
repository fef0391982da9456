import zoneinfo

from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequired
from django.utils import timezone
from django.utils.cache import add_never_cache_headers

from core.http import body_limit, too_large_response


class LoginRequiredMiddleware(DjangoLoginRequired):
    """Login everywhere but sign-in, except under /api/: DRF authenticates there itself (token
    or session) and answers 401/403 instead of redirecting to the sign-in page."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class UserTimezoneMiddleware:
    """Times are stored in UTC and shown in the signed-in user's own time zone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        time_zone = getattr(user, "time_zone", "") if user and user.is_authenticated else ""
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
