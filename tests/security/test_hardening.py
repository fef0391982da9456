"""Hardening (SPEC §9): login throttling, cookies, security headers, a Content-Security-Policy
without inline script, CSRF for htmx, and the production settings."""

import json
import os
import re
import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.utils import timezone

from approvals import workflow
from notifications.models import Channel, Notification
from tests.factories import PurchaseRequestFactory, UserFactory
from tests.security.conftest import PASSWORD, inline_script_in

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parents[2]
SIGN_IN = "/accounts/login/"
LOCKED = "Too many failed sign-in attempts"


def sign_in(client, username, password, address="10.0.0.1"):
    return client.post(SIGN_IN, {"username": username, "password": password}, REMOTE_ADDR=address)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


# Login throttling (django-axes)


def test_five_failed_sign_ins_lock_that_username_from_that_address_for_15_minutes(
    client, requester
):
    for _ in range(4):
        response = sign_in(client, "rita", "wrong")
        assert response.status_code == 200
        assert "Please enter a correct username and password" in response.content.decode()
    response = sign_in(client, "rita", "wrong")  # the fifth
    assert response.status_code == 429
    # Even the right password is refused now, on the sign-in page, which says why.
    response = sign_in(client, "rita", PASSWORD)
    page = response.content.decode()
    assert response.status_code == 429
    assert f"{LOCKED} for “rita”" in page
    assert "locked for 15 minutes" in page
    assert 'name="password"' in page  # the sign-in form is still there
    assert not signed_in(client)

    # Each attempt during the lockout starts the 15 minutes again.
    later = timezone.now() + timedelta(minutes=14)
    with time_machine.travel(later):
        assert sign_in(client, "rita", PASSWORD).status_code == 429
    with time_machine.travel(later + timedelta(minutes=14)):
        assert sign_in(client, "rita", PASSWORD).status_code == 429
    with time_machine.travel(later + timedelta(minutes=14 + 15, seconds=1)):
        response = sign_in(client, "rita", PASSWORD)
        assert response.status_code == 302
        assert signed_in(client)


def test_the_lockout_holds_for_the_username_and_address_together(client, requester):
    """Someone guessing rita's password from one address neither locks rita out elsewhere nor
    locks out colleagues who share that address."""
    UserFactory(username="oscar")
    for _ in range(5):
        sign_in(client, "rita", "wrong", address="10.0.0.1")
    assert sign_in(client, "rita", PASSWORD, address="10.0.0.1").status_code == 429

    assert sign_in(Client(), "rita", PASSWORD, address="10.9.9.9").status_code == 302
    assert sign_in(Client(), "oscar", PASSWORD, address="10.0.0.1").status_code == 302


def test_a_successful_sign_in_clears_the_failures(client, requester):
    for _ in range(4):
        sign_in(client, "rita", "wrong")
    assert sign_in(client, "rita", PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        assert sign_in(client, "rita", "wrong").status_code == 200
    assert sign_in(client, "rita", PASSWORD).status_code == 302


def test_the_api_token_endpoint_is_throttled_like_the_sign_in_page(api, requester):
    def token(password):
        return api.post(
            "/api/auth/token/", {"username": "rita", "password": password}, REMOTE_ADDR="10.0.0.2"
        )

    for _ in range(5):
        assert token("wrong").status_code == 400
    response = token(PASSWORD)
    assert response.status_code == 400, (
        "a locked-out pair gets no token, not even with the password"
    )
    assert "token" not in response.json()
    with time_machine.travel(timezone.now() + timedelta(minutes=15, seconds=1)):
        response = token(PASSWORD)
        assert response.status_code == 200
        assert response.json()["token"]


def test_signing_in_without_a_password_check_still_works_for_tests_and_sessions(client, requester):
    """The axes backend comes first and refuses locked-out pairs; force_login (tests) and the
    session's backend use Django's ModelBackend, which follows it."""
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    client.force_login(requester)
    assert client.get("/requests/").status_code == 200


# Cookies and headers


def test_session_and_csrf_cookies_are_http_only_and_same_site_lax(client, requester):
    client.get(SIGN_IN)  # sets the CSRF cookie
    response = sign_in(client, "rita", PASSWORD)
    assert response.status_code == 302
    session = client.cookies[settings.SESSION_COOKIE_NAME]
    csrf = client.cookies[settings.CSRF_COOKIE_NAME]
    for cookie in (session, csrf):
        assert cookie["httponly"] is True
        assert cookie["samesite"] == "Lax"


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def csp(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.mark.parametrize("path", [SIGN_IN, "/requests/", "/api/requests/", "/api/schema/"])
def test_every_response_carries_the_security_headers(client, requester, path):
    if path != SIGN_IN:  # signed in, the sign-in page sends one on
        client.force_login(requester)
    response = client.get(path)
    assert response.status_code == 200
    for header, value in SECURITY_HEADERS.items():
        assert response[header] == value, header
    assert "Content-Security-Policy" in response


def test_the_content_security_policy_allows_no_inline_script(client, requester):
    client.force_login(requester)
    policy = csp(client.get("/requests/new/"))
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    # Styles: files from this origin, and htmx's indicator <style> by the request's nonce.
    assert policy["style-src"][0] == "'self'"
    assert all(
        re.fullmatch(r"'(nonce|sha256)-[A-Za-z0-9+/=]+'", v) for v in policy["style-src"][1:]
    )
    # Style attributes: a few exact values by their hash, nothing else.
    assert policy["style-src-attr"][0] == "'unsafe-hashes'"
    assert all(re.fullmatch(r"'sha256-[A-Za-z0-9+/=]+'", v) for v in policy["style-src-attr"][1:])
    everything = " ".join(v for values in policy.values() for v in values)
    assert "unsafe-inline" not in everything
    assert "unsafe-eval" not in everything


def test_the_style_nonce_is_fresh_for_every_response_and_handed_to_htmx(client, requester):
    client.force_login(requester)
    nonces = []
    for _ in range(2):
        response = client.get("/requests/")
        [nonce] = [
            v[len("'nonce-") : -1] for v in csp(response)["style-src"] if v.startswith("'nonce-")
        ]
        assert f'"inlineStyleNonce": "{nonce}"' in response.content.decode()
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


# No inline script on any page


@pytest.fixture
def pages(requester, admin_user, it_reviewer):
    """A request with every part of its page filled (steps, an attachment form, the withdraw
    button), and the pages people see most, as the requester and as an admin."""

    pr = workflow.submit_request(PurchaseRequestFactory(requester=requester), by=requester)
    draft = PurchaseRequestFactory(requester=requester)
    return {
        None: [SIGN_IN],
        requester: [
            "/requests/",
            "/requests/new/",
            f"/requests/{pr.pk}/",
            f"/requests/{draft.pk}/",
            f"/requests/{draft.pk}/edit/",
            "/approvals/",
            "/notifications/",
            "/accounts/out-of-office/",
        ],
        it_reviewer: [f"/requests/{pr.pk}/", "/approvals/", "/approvals/rules/preview/"],
        admin_user: [
            f"/requests/{pr.pk}/",
            "/approvals/",
            "/approvals/rules/preview/?total=30000",
            "/vendors/",
            f"/vendors/{pr.vendor_id}/",
            "/vendors/new/",
            "/insights/",
            "/admin/",
            "/admin/audit/auditevent/",
        ],
    }


def test_no_page_runs_inline_script(client, pages):
    problems = {}
    for user, paths in pages.items():
        client.logout()
        if user is not None:
            client.force_login(user)
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, path
            found = inline_script_in(response.content.decode())
            if found:
                problems[f"{user.username} {path}"] = found
    assert problems == {}


def test_the_api_docs_page_runs_no_inline_script(client, requester):
    """Swagger UI's settings script must come from a URL, not be inlined in the page."""
    client.force_login(requester)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert inline_script_in(response.content.decode()) == []
    script = re.search(r'<script src="([^"]*\?script[^"]*)"', response.content.decode())
    assert script, "the docs page loads its settings script from a URL"
    init = client.get(script.group(1).replace("&amp;", "&"))
    assert init.status_code == 200
    assert init["Content-Type"].startswith("application/javascript")


# Confirmations and CSRF without inline script


def test_withdraw_asks_for_confirmation_through_a_data_attribute(client, requester):
    """The browser side (the dialog is shown and accepted) is tests/e2e/test_request_intake.py;
    test_csp_in_browser.py shows that dismissing it withdraws nothing."""
    draft = PurchaseRequestFactory(requester=requester)
    client.force_login(requester)
    page = client.get(f"/requests/{draft.pk}/").content.decode()
    assert f'data-confirm="Withdraw {draft.number}? This cannot be undone."' in page
    assert 'src="/static/js/confirm.js"' in page
    script = client.get("/static/js/confirm.js")
    assert script.status_code == 200
    assert "dataset.confirm" in b"".join(script.streaming_content).decode()


def test_htmx_requests_carry_the_csrf_token_from_the_layout(requester):
    """The CSRF cookie is HttpOnly: htmx gets the token from `hx-headers` on <body>, and a
    state-changing htmx request with it passes the CSRF check (and fails without it)."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(requester)
    page = browser.get("/requests/").content.decode()
    body = re.search(r"<body[^>]*hx-headers='([^']*)'", page)
    assert body, "the layout's <body> has hx-headers"
    headers = json.loads(body.group(1))
    Notification.objects.create(
        recipient=requester, channel=Channel.IN_APP, subject="s", body="b", url="/", status="sent"
    )
    refused = browser.post("/notifications/read/", HTTP_HX_REQUEST="true")
    assert refused.status_code == 403
    response = browser.post(
        "/notifications/read/",
        HTTP_HX_REQUEST="true",
        HTTP_X_CSRFTOKEN=headers["X-CSRFToken"],
    )
    assert response.status_code == 302
    assert not Notification.objects.filter(recipient=requester, read_at__isnull=True).exists()


# Production settings


PRODUCTION_VALUES = """
import json
from django.conf import settings as s
print(json.dumps({name: getattr(s, name) for name in [
    "DEBUG", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY", "CSRF_COOKIE_HTTPONLY", "SESSION_COOKIE_NAME", "CSRF_COOKIE_NAME",
    "SECURE_PROXY_SSL_HEADER", "X_FRAME_OPTIONS", "AXES_FAILURE_LIMIT",
]}))
"""


def test_production_settings_are_https_only_with_hsts_and_host_only_cookies():
    """`manage.py check --deploy` is clean too: tests/integration/test_deploy_check.py."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not re.match(r"^(DJANGO_.*|SECRET_KEY|DATABASE_URL|DEBUG|SECURE_.*)$", key)
    }
    env.update(
        DJANGO_SETTINGS_MODULE="settings.production",
        SECRET_KEY=secrets.token_urlsafe(50),
        DATABASE_URL="postgres://tandem@127.0.0.1:5432/tandem",  # never contacted
    )
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "manage.py", "shell", "-c", PRODUCTION_VALUES],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values == {
        "DEBUG": False,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "CSRF_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_NAME": "__Host-sessionid",
        "CSRF_COOKIE_NAME": "__Host-csrftoken",
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "X_FRAME_OPTIONS": "DENY",
        "AXES_FAILURE_LIMIT": 5,
    }


@pytest.mark.parametrize("variable", ["TANDEM_WEBHOOK_URL", "TANDEM_ALERT_WEBHOOK_URL"])
def test_a_webhook_url_that_is_not_a_web_address_is_refused_at_start(variable):
    """urllib would open file: URLs too (bandit B310); the settings refuse them."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "settings.test"}
    env[variable] = "file:///etc/passwd"
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "manage.py", "check"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert f"{variable} must be an http:// or https:// address" in result.stderr


# Caching (issue 11): nothing a signed-in person sees is kept by a browser or proxy


def _no_store(response) -> bool:
    return "no-store" in response.get("Cache-Control", "")


def test_pages_api_answers_exports_and_downloads_are_no_store(client, api, requester, cio):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.security.test_permission_matrix import PNG

    draft = PurchaseRequestFactory(requester=requester)
    client.force_login(requester)
    client.post(
        f"/requests/{draft.pk}/attachments/",
        {"attachments": SimpleUploadedFile("spec.png", PNG, content_type="image/png")},
    )
    attachment = draft.attachments.get()
    answers = {
        "page": client.get("/requests/"),
        "request page": client.get(draft.get_absolute_url()),
        "download": client.get(f"/requests/{draft.pk}/attachments/{attachment.pk}/"),
        "export": client.get("/insights/export/requests.csv"),
        "redirect after a post": client.post(f"/requests/{draft.pk}/comments/", {"body": "Hi"}),
        "API": api.as_user(requester).get("/api/requests/"),
        "API error": api.get("/api/requests/999999/"),
        "API export": api.get("/api/export/requests.csv"),
        "API without credentials": Client().get("/api/requests/"),
        "sign-in page": Client().get(SIGN_IN),
    }
    for what, response in answers.items():
        assert response.status_code < 500, what
        assert _no_store(response), f"{what}: {response.get('Cache-Control')!r}"


def test_static_files_stay_cacheable(client):
    response = client.get("/static/js/confirm.js")
    assert response.status_code == 200
    assert not _no_store(response)
