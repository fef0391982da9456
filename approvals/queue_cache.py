"""The reviewer's queue, kept per reader (PostgreSQL): the "Waiting for me" page and
`GET /api/requests/?awaiting=me` are worked out once and served again while no table they read
has been written (the data version QUEUE_DATA, moved on by a trigger on each of TABLES) and
the clock is in the same minute.

The minute because the page moves with the clock, not only with the data: how long a step has
waited (shown in minutes), which steps are overdue, and whose delegations are open. Who asks
(the session or the token, the page's address) is part of the key; what is shown is read only
from TABLES, which tests/approvals/test_queue_cache.py checks against every query the page and
the API make, for each role."""

import functools
import hashlib

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils import timezone, translation

from core.data_versions import DataVersion

TABLES = (
    "accounts_delegation",
    "accounts_department",
    "accounts_user",
    "accounts_user_groups",
    "approvals_approvalstep",
    "approvals_consultation",
    "auth_group",
    "budgets_budget",
    "budgets_renewal",
    "intake_category",
    "intake_purchaserequest",
    "notifications_notification",
    "notifications_noticestate",
    "vendors_contract",
    "vendors_vendor",
)
# Who asks, not what is shown: part of the key instead.
READER_TABLES = ("django_session", "accounts_apitoken")
QUEUE_DATA = DataVersion(sequence="queue_data_version", lock_key=2, tables=TABLES)

# The key changes with any write and every minute; the timeout only bounds the memory of keys
# nobody asks for again.
CACHE_SECONDS = 120
KEY_VERSION = 1
# Stands for the page's CSP nonce in a kept page: each response has its own.
NONCE_MARK = b"\x00csp-nonce\x00"


def _key(*reader) -> str | None:
    if not settings.QUEUE_CACHE:
        return None
    version = QUEUE_DATA.current(connection)
    if version is None:
        return None
    parts = (
        KEY_VERSION,
        connection.settings_dict["NAME"],
        version,
        timezone.now().replace(second=0, microsecond=0),
        timezone.get_current_timezone_name(),
        translation.get_language(),
        *reader,
    )
    return "queue:" + hashlib.sha256(repr(parts).encode()).hexdigest()


def kept(reader: tuple, work_out):
    """What `work_out()` gives for this reader, from the cache while the data version and the
    minute are those it was worked out in."""
    key = _key(*reader)
    if key is None:
        return work_out()
    value = cache.get(key)
    if value is None:
        value = work_out()
        cache.set(key, value, CACHE_SECONDS)
    return value


def kept_page(view):
    """A page view (GET, signed in by session) whose 200 responses are kept per session and
    address. A page with messages to show is worked out afresh, and never kept. The CSRF token
    in a kept page stays valid for its session; its CSP nonce is replaced by the response's."""

    @functools.wraps(view)
    def page(request, *args, **kwargs):
        session_key = request.session.session_key
        if request.method != "GET" or not session_key or len(messages.get_messages(request)):
            return view(request, *args, **kwargs)
        reader = (
            "page",
            view.__module__,
            view.__qualname__,
            session_key,
            request.user.pk,
            request.COOKIES.get(settings.CSRF_COOKIE_NAME, ""),
            request.headers.get("HX-Request", ""),
            request.headers.get("HX-Target", ""),
            request.build_absolute_uri(),
        )
        key = _key(*reader)
        if key is not None:
            content = cache.get(key)
            if content is not None:
                get_token(request)  # the CSRF cookie is sent as when the page is rendered
                if NONCE_MARK in content:
                    content = content.replace(NONCE_MARK, str(request.csp_nonce).encode())
                return HttpResponse(content)
        response = view(request, *args, **kwargs)
        if key is not None and response.status_code == 200 and not response.streaming:
            content = response.content
            nonce = getattr(request, "_csp_nonce", None)
            if nonce:
                content = content.replace(nonce.encode(), NONCE_MARK)
            cache.set(key, content, CACHE_SECONDS)
        return response

    return page
