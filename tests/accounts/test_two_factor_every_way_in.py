"""Two-factor on every way in (issue 27, item 11): each way to get a credential with a password
(the sign-in page; the admin's and allauth's sign-in addresses and e-mail decision links, which
lead to it; the API token endpoint) asks for the second factor where the sign-in page does, and
refuses with a clear message otherwise. A phished password alone is never a session or a token
of somebody whose account signs in with two factors (accounts.two_factor). Signing in through
the company's identity provider is left to the provider's own second factor."""

from dataclasses import dataclass

import pytest
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.models import ApiToken
from tests.accounts.test_two_factor import PASSWORD, totp

pytestmark = pytest.mark.django_db

API = "/api/requests/"


@pytest.fixture(autouse=True)
def _fresh_codes(settings):
    """Two-factor codes are required (production's default); codes used by an earlier test
    (allauth keeps them in the cache to refuse a second use) are forgotten."""
    settings.TANDEM_REQUIRE_MFA = True
    cache.clear()


@dataclass
class Outcome:
    works: bool  # the credential got this way opens the API
    says: str  # what the person or the client is told


def through_the_sign_in_page(start: str):
    def sign_in(user, code: str | None) -> Outcome:
        client = APIClient()
        page = client.get(start, follow=True)
        assert page.request["PATH_INFO"] == "/accounts/login/"  # every page leads here
        response = client.post(
            "/accounts/login/", {"username": user.username, "password": PASSWORD}
        )
        said = ""
        if response.status_code == 302 and response["Location"] == "/auth/2fa/authenticate/":
            said = client.get("/auth/2fa/authenticate/").content.decode()
            if code is not None:
                response = client.post("/auth/2fa/authenticate/", {"code": code})
                said = response.content.decode() if response.status_code == 200 else ""
        api = client.get(API)
        if api.status_code == 403:
            said = api.json()["detail"]
        return Outcome(works=api.status_code == 200, says=said)

    return sign_in


def through_the_token_endpoint(user, code: str | None) -> Outcome:
    client = APIClient()
    body = {"username": user.username, "password": PASSWORD}
    if code is not None:
        body["code"] = code
    response = client.post("/api/auth/token/", body, format="json")
    if response.status_code != 200:
        return Outcome(works=False, says=str(response.json()))
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['token']}")
    return Outcome(works=client.get(API).status_code == 200, says="")


PATHS = {
    "sign-in page": through_the_sign_in_page("/accounts/login/"),
    "admin's sign-in": through_the_sign_in_page("/admin/login/?next=/admin/"),
    "allauth's sign-in": through_the_sign_in_page("/auth/login/"),
    # A decision link signs nobody in: without a session it leads to the sign-in page.
    "e-mail decision link": through_the_sign_in_page("/decide/a-link-from-an-e-mail/"),
    "API token endpoint": through_the_token_endpoint,
}

# (state, works, what the page says, what the token endpoint says)
STATES = {
    "no authenticator set up": (False, "Set up two-factor", "set up an authenticator app"),
    "authenticator, no code": (False, "authenticator code", "send the code"),
    "authenticator, wrong code": (False, "Incorrect code", "Incorrect code"),
    "authenticator, right code": (True, "", ""),
}


def enrolled(user) -> str:
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("path", PATHS)
def test_a_cio_gets_in_only_with_the_second_factor_on_every_path(path, state, cio):
    works, page_says, endpoint_says = STATES[state]
    code = None
    if state != "no authenticator set up":
        secret = enrolled(cio)
        right = totp(secret)
        wrong = "000000" if right != "000000" else "111111"
        code = {"authenticator, wrong code": wrong, "authenticator, right code": right}.get(state)

    outcome = PATHS[path](cio, code)

    assert outcome.works is works, outcome.says
    expected = endpoint_says if path == "API token endpoint" else page_says
    assert expected in outcome.says
    if path == "API token endpoint" and not works:
        assert not ApiToken.objects.filter(user=cio).exists()


@pytest.mark.parametrize("path", PATHS)
def test_anybody_with_an_authenticator_gives_its_code_on_every_path(path, requester):
    """Not only the roles that must: a requester who set up codes is asked for them too."""
    secret = enrolled(requester)
    assert not PATHS[path](requester, None).works
    assert PATHS[path](requester, totp(secret)).works


@pytest.mark.parametrize("path", PATHS)
def test_a_requester_without_an_authenticator_signs_in_with_the_password(path, requester):
    assert PATHS[path](requester, None).works


def test_a_recovery_code_also_gives_a_token_once(cio):
    """As on the page: a recovery code stands in for a lost phone, and works only once."""
    enrolled(cio)
    recovery = RecoveryCodes.activate(cio).get_unused_codes()
    body = {"username": cio.username, "password": PASSWORD, "code": recovery[0]}
    assert APIClient().post("/api/auth/token/", body, format="json").status_code == 200
    again = APIClient().post("/api/auth/token/", body, format="json")
    assert again.status_code == 400 and again.json()["code"] == ["Incorrect code."]


def test_the_token_endpoint_documents_its_code_field(api, requester):
    schema = api.as_user(requester).get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/auth/token/"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    fields = schema["components"]["schemas"][body.rsplit("/", 1)[1]]["properties"]
    assert "authenticator app" in fields["code"]["description"]
    assert {"username", "password", "code", "scopes", "expires_at"} <= set(fields)
    assert {"200", "400", "403"} <= set(operation["responses"])
