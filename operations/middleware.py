"""`/healthz`, `/readyz`, `/healthz/deep` and `/metrics`, answered before the rest of the
stack: no sign-in, no session, no host check and no HTTPS redirect, so a container healthcheck
or a Prometheus server inside the private network reaches them by address over plain HTTP.

- `/healthz` (liveness): the process answers; touches nothing else (no database).
- `/readyz` (readiness): what this web process needs to serve: the database reachable and every
  migration applied; 503 naming only the failing part. Redis is not asked: a load balancer must
  not take web servers that serve fine out of rotation for a broker outage.
- `/healthz/deep` (monitoring): every part of the system: database, migrations, broker, worker
  and beat heartbeats, outbox; 503 naming the failing parts. Only with the bearer token of
  `/metrics`, like it.
- `/metrics`: Prometheus text, only with `Authorization: Bearer <METRICS_TOKEN>`; 404 when no
  METRICS_TOKEN is configured, 401 with a wrong or missing token."""

import hmac

from django.conf import settings
from django.http import HttpResponse, JsonResponse

from core import outages

from . import health, metrics

HEALTHZ = "/healthz"
READYZ = "/readyz"
HEALTHZ_DEEP = "/healthz/deep"
METRICS = "/metrics"


class OperationsEndpointsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info.rstrip("/") or "/"
        if path == HEALTHZ:
            return _hardened(self._only_get(request) or JsonResponse({"status": "ok"}))
        if path == READYZ:
            return _hardened(self._only_get(request) or readiness(request))
        if path == HEALTHZ_DEEP:
            refusal = self._only_get(request) or _token_refusal(request)
            return _hardened(refusal or deep_health(request))
        if path == METRICS:
            return _hardened(self._only_get(request) or metrics_response(request))
        return self.get_response(request)

    @staticmethod
    def _only_get(request):
        if request.method in ("GET", "HEAD"):
            return None
        response = HttpResponse(
            "Only GET is allowed here.\n", status=405, content_type="text/plain"
        )
        response["Allow"] = "GET, HEAD"
        return response


def _hardened(response):
    """These answers skip the security middlewares: they carry the same headers themselves,
    and are never cached."""
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["X-Frame-Options"] = "DENY"
    response["Referrer-Policy"] = "same-origin"
    response["Cross-Origin-Opener-Policy"] = "same-origin"
    response["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'"
    return response


def readiness(request):
    failing = health.serving_failures()
    if failing:
        # The failing parts are logged once per change of state (operations.health), not at
        # each probe.
        outages.logged(request)
        return JsonResponse({"status": "unavailable", "failing": failing}, status=503)
    return JsonResponse({"status": "ok"})


CHECK_WORDS = {True: "ok", False: "failing", None: "unknown"}


def deep_health(request):
    checks = health.deep_checks()
    body = {"checks": {part: CHECK_WORDS[result] for part, result in checks.items()}}
    failing = [part for part, result in checks.items() if result is False]
    if failing:
        outages.logged(request)
        return JsonResponse({"status": "degraded", "failing": failing, **body}, status=503)
    return JsonResponse({"status": "ok", **body})


def _token_refusal(request):
    """None when the request carries the operations token (METRICS_TOKEN); otherwise the
    refusal: 404 when no token is configured, 401 with a wrong or missing one."""
    token = settings.METRICS_TOKEN
    if not token:
        return HttpResponse("Not found.\n", status=404, content_type="text/plain")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    valid = hmac.compare_digest(given.strip().encode(), token.encode())
    if scheme.lower() != "bearer" or not valid:
        response = HttpResponse(
            "A bearer token (METRICS_TOKEN) is required.\n", status=401, content_type="text/plain"
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return None


def metrics_response(request):
    refusal = _token_refusal(request)
    if refusal is not None:
        return refusal
    body, content_type = metrics.render()
    return HttpResponse(body, content_type=content_type)
