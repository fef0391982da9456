"""Answers for requests refused before any view runs: a body over the size limit is 413, on
pages and in the API alike (Django alone would answer 400, or read it whole); and the answer
while the database is down: 503 with Retry-After instead of a bare 500."""

import sys

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string
from django.utils.html import escape
from django.views import defaults

from core import outages
from core.query import BadQueryParameter


def body_limit(request) -> int:
    """The most Tandem reads of a request body: file uploads (multipart) may carry up to
    TANDEM_MAX_REQUEST_BYTES, every other body DATA_UPLOAD_MAX_MEMORY_SIZE."""
    if request.META.get("CONTENT_TYPE", "").lower().startswith("multipart/"):
        return settings.TANDEM_MAX_REQUEST_BYTES
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def too_large_message(limit: int) -> str:
    return (
        f"The request is too large: Tandem accepts at most {filesizeformat(limit)} in one "
        "request. Send less (for attachments: fewer or smaller files)."
    )


def too_large_response(request, limit: int | None = None) -> HttpResponse:
    message = too_large_message(limit or body_limit(request))
    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": message}, status=413)
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Too large · Tandem</title></head><body><main>"
        f"<h1>Too large</h1><p>{escape(message)}</p>"
        '<p><a href="/">Back to My requests</a></p></main></body></html>'
    )
    return HttpResponse(page, status=413)


def bad_request(request, exception=None):
    """handler400: a body Django refused for its size is 413; a query parameter a view refused
    (core.query) is the 400 page saying which and why (JSON under /api/); anything else the
    usual 400."""
    if isinstance(exception, RequestDataTooBig):
        return too_large_response(request)
    if isinstance(exception, BadQueryParameter):
        if request.path_info.startswith("/api/"):
            return JsonResponse({exception.name: [exception.message]}, status=400)
        return render(request, "400.html", {"message": str(exception)}, status=400)
    return defaults.bad_request(request, exception)


def not_found(request, exception=None):
    """handler404: under /api/ a JSON answer like every other API error, as documented."""
    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def forbidden(request, exception=None):
    """handler403: under /api/ a JSON answer with the reason."""
    if request.path_info.startswith("/api/"):
        detail = str(exception or "") or "You do not have permission to perform this action."
        return JsonResponse({"detail": detail}, status=403)
    return defaults.permission_denied(request, exception)


RETRY_AFTER_SECONDS = 30
UNAVAILABLE_MESSAGE = (
    "Tandem is briefly unavailable; nothing you sent was lost. Whatever was saved before stays "
    "saved, and this last action was not half done: try it again in a minute."
)


def briefly_unavailable(request) -> HttpResponse:
    """503 with Retry-After: JSON under /api/, else a page that needs no database (no context
    processors, no signed-in user, no layout)."""
    if request.path_info.startswith("/api/"):
        response = JsonResponse({"detail": UNAVAILABLE_MESSAGE}, status=503)
    else:
        page = render_to_string("503.html", {"message": UNAVAILABLE_MESSAGE})
        response = HttpResponse(page, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    # Made where the database failed, perhaps outside the middlewares that add these headers
    # (the CSP's reads the identity provider's origins): the page's own, as strict.
    response["X-Frame-Options"] = "DENY"
    response["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    )
    return response


def server_error(request):
    """handler500: the database not answering is 503 "briefly unavailable" (a load balancer
    and a client retry it); anything else the usual 500 page. Django calls it while handling
    the exception, so sys.exc_info() names it. The outage is logged once, when it starts
    (core.outages.DATABASE); each request keeps its line (tandem.request, status 503)."""
    error = sys.exc_info()[1]
    if outages.database_down(error):
        outages.DATABASE.failed(error)
        outages.logged(request)
        return briefly_unavailable(request)
    return defaults.server_error(request)
