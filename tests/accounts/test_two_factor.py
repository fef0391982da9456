"""Two-factor codes for local sign-in (issue 19, allauth's MFA): with TANDEM_REQUIRE_MFA on
(production's default), staff, CIO and CPO who sign in with a password set up an authenticator
app before anything else, and from then on sign in with a code from it (or a recovery code).
The codes here come from an authenticator written out below (RFC 6238), not from allauth."""

import base64
import hashlib
import hmac
import re
import struct
import time
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts import roles
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "secret-pass-123"


def totp(secret: str, at: float | None = None) -> str:
    """What an authenticator app shows for `secret` at `at`: RFC 6238, SHA-1, 30 s, 6 digits."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    counter = int((time.time() if at is None else at) // 30)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


@pytest.fixture
def require_mfa(settings):
    settings.TANDEM_REQUIRE_MFA = True


def sign_in(client, username):
    return client.post("/accounts/login/", {"username": username, "password": PASSWORD})


def set_up_authenticator(client) -> tuple[str, list[str]]:
    page = client.get("/auth/2fa/totp/activate/")
    assert page.status_code == 200
    secret = re.search(r'id="authenticator_secret"[^>]*value="([A-Z2-7]+)"', page.content.decode())
    assert secret, page.content.decode()
    secret = secret.group(1)
    response = client.post("/auth/2fa/totp/activate/", {"code": totp(secret)})
    assert response.status_code == 302, response.content.decode()
    codes_page = client.get(response["Location"]).content.decode()
    recovery = re.findall(r"\b[0-9a-f]{8}\b", codes_page)
    assert recovery, codes_page
    return secret, recovery


def test_a_cio_who_signs_in_with_a_password_sets_up_an_authenticator_first(
    client, require_mfa, cio
):
    response = sign_in(client, "cora")
    assert response.status_code == 302
    # Every page leads to the set-up first, and the API refuses the session until then.
    response = client.get("/requests/")
    assert response.status_code == 302 and response["Location"] == "/auth/2fa/totp/activate/"
    assert client.get("/approvals/").status_code == 302
    refused = client.get("/api/requests/")
    assert refused.status_code == 403 and "two-factor" in refused.json()["detail"]
    page = client.get("/auth/2fa/totp/activate/").content.decode()
    assert "authenticator app" in page

    wrong = client.post("/auth/2fa/totp/activate/", {"code": "000000"})
    assert wrong.status_code == 200
    set_up_authenticator(client)
    assert client.get("/requests/").status_code == 200
    assert client.get("/api/requests/").status_code == 200


@pytest.mark.parametrize("kind", ["staff", "cpo"])
def test_staff_and_the_cpo_need_it_too_but_requesters_do_not(client, require_mfa, kind):
    if kind == "staff":
        UserFactory(username="sam", is_staff=True)
    else:
        UserFactory(username="sam", roles=[roles.CPO])
    sign_in(client, "sam")
    assert client.get("/requests/")["Location"] == "/auth/2fa/totp/activate/"
    UserFactory(username="rita")
    other = type(client)()
    sign_in(other, "rita")
    assert other.get("/requests/").status_code == 200


def test_with_an_authenticator_signing_in_asks_for_its_code(client, require_mfa, cio):
    sign_in(client, "cora")
    secret, recovery = set_up_authenticator(client)
    client.post("/accounts/logout/")

    later = timezone.now() + timedelta(minutes=2)  # a code not yet used
    with time_machine.travel(later, tick=False):
        response = sign_in(client, "cora")
        assert response.status_code == 302 and response["Location"] == "/auth/2fa/authenticate/"
        assert "_auth_user_id" not in client.session  # not signed in with the password alone
        assert client.get("/requests/").status_code == 302
        wrong = client.post("/auth/2fa/authenticate/", {"code": "123456"})
        assert wrong.status_code == 200 and "_auth_user_id" not in client.session
        response = client.post("/auth/2fa/authenticate/", {"code": totp(secret, later.timestamp())})
        assert response.status_code == 302 and response["Location"] == "/requests/"
        assert client.get("/requests/").status_code == 200
        client.post("/accounts/logout/")

        # A recovery code works once, when the phone is lost.
        sign_in(client, "cora")
        response = client.post("/auth/2fa/authenticate/", {"code": recovery[0]})
        assert response.status_code == 302 and client.get("/requests/").status_code == 200
        client.post("/accounts/logout/")
        sign_in(client, "cora")
        assert client.post("/auth/2fa/authenticate/", {"code": recovery[0]}).status_code == 200


def test_off_in_development_and_tests_the_demo_users_sign_in_with_passwords(client, cio):
    sign_in(client, "cora")
    assert client.get("/requests/").status_code == 200


def test_the_admins_own_sign_in_page_leads_to_tandems_so_no_code_is_skipped(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/admin/"
