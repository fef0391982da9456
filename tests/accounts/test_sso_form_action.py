"""The CSP lets sign-in reach the company's provider (issue 27, item 10): allauth answers the
"Sign in with …" POST with a redirect to the provider's authorization endpoint, and Chromium
holds a form's redirects to the page's form-action; so form-action names the provider's
origins, worked out in one place (accounts.sso.form_targets) from its configuration: the
issuer, and the authorization endpoint that discovery (or the app's overrides) names. The
browser test is tests/e2e/test_sso_sign_in.py; here the header, per configuration."""

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from accounts import sso
from tests.support.oidc import OidcProvider

pytestmark = pytest.mark.django_db

ELSEWHERE = "https://login.elsewhere.example"


def form_action(response) -> list[str]:
    return re.search(r"form-action ([^;]*)", response["Content-Security-Policy"]).group(1).split()


def providers(server_url: str, **settings) -> dict:
    app = {
        "provider_id": "company",
        "name": "Example Corp",
        "client_id": "tandem",
        "secret": "secret",
        "settings": {"server_url": server_url, **settings},
    }
    return {"openid_connect": {"APPS": [app]}}


@pytest.fixture(autouse=True)
def _discover_afresh():
    sso._discovered.clear()
    yield
    sso._discovered.clear()


@pytest.fixture
def discovery():
    """An issuer whose discovery document sends the browser to another origin to sign in (as
    some providers do: a login host beside the API host)."""
    asked = []

    class Discovery(BaseHTTPRequestHandler):
        def do_GET(self):
            asked.append(self.path)
            body = json.dumps({"authorization_endpoint": f"{ELSEWHERE}/oauth2/authorize"})
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Discovery)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.issuer = f"http://127.0.0.1:{server.server_port}/realms/corp"
    server.asked = asked
    yield server
    server.shutdown()
    server.server_close()


def test_without_a_provider_forms_lead_only_to_tandem(client):
    assert form_action(client.get("/accounts/login/")) == ["'self'"]


def test_a_real_providers_issuer_is_a_form_target(client, settings, tmp_path):
    provider = OidcProvider(tmp_path, site_urls=["http://testserver/"], users={}).start()
    try:
        settings.SOCIALACCOUNT_PROVIDERS = provider.settings()
        assert form_action(client.get("/accounts/login/")) == ["'self'", provider.issuer]
        # Every page, not only the sign-in page: a sign-in may start from any of them.
        assert form_action(client.get("/auth/oidc/company/login/")) == ["'self'", provider.issuer]
    finally:
        provider.stop()


def test_a_discovered_authorization_endpoint_on_another_origin_is_one_too(
    client, settings, discovery
):
    settings.SOCIALACCOUNT_PROVIDERS = providers(discovery.issuer)
    issuer_origin = discovery.issuer.removesuffix("/realms/corp")
    assert form_action(client.get("/accounts/login/")) == ["'self'", issuer_origin, ELSEWHERE]
    assert discovery.asked == ["/realms/corp/.well-known/openid-configuration"]
    client.get("/accounts/login/")
    assert len(discovery.asked) == 1  # kept: not asked again on every page


def test_an_overridden_authorization_endpoint_is_one_too(client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = providers(
        "http://127.0.0.1:9/issuer",
        openid_configuration_overrides={"authorization_endpoint": f"{ELSEWHERE}/authorize"},
    )
    assert form_action(client.get("/accounts/login/")) == [
        "'self'",
        "http://127.0.0.1:9",
        ELSEWHERE,
    ]


def test_a_provider_that_does_not_answer_leaves_its_issuer_and_the_page_works(client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = providers("http://127.0.0.1:9/issuer")  # nothing listens
    response = client.get("/accounts/login/")
    assert response.status_code == 200 and "Sign in with Example Corp" in response.content.decode()
    assert form_action(response) == ["'self'", "http://127.0.0.1:9"]
