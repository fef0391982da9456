"""Signing in with the company's identity provider (issue 19), against a real OpenID Connect
provider (tests/support/oidc_provider.mjs, the `oidc-provider` npm package) running as its own
process: people are made at their first sign-in and found again by `sub`; their roles and
department follow the provider's claims through the admin's mappings at every sign-in; somebody
who leaves loses sessions, tokens and delegations at once; the provider's back-channel logout
ends their sessions; SSO-only mode keeps passwords for the break-glass admins only."""

from datetime import timedelta

import pytest
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth.models import Group
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import roles, services, tokens
from accounts.models import ClaimMapping, Delegation, Department, User
from tests.factories import UserFactory
from tests.support.oidc import OidcProvider

pytestmark = pytest.mark.django_db

USERS = {
    "sub-ivy-7f3a": {
        "preferred_username": "ivy",
        "given_name": "Ivy",
        "family_name": "Sato",
        "email": "ivy@corp.example",
        "department": "CC-IT",
        "groups": ["it-security", "all-staff"],
    },
    "sub-carl-91bd": {
        "preferred_username": "carl",
        "given_name": "Carl",
        "family_name": "Ortega",
        "email": "carl@corp.example",
        "groups": ["cio-office"],
    },
}


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    idp = OidcProvider(
        tmp_path_factory.mktemp("oidc"), site_urls=["http://testserver/"], users=USERS
    ).start()
    yield idp
    idp.stop()


@pytest.fixture
def sso(provider, settings):
    """Tandem connected to the provider, with the admin's mappings."""
    settings.SOCIALACCOUNT_PROVIDERS = provider.settings()
    it = Department.objects.create(name="Information technology", cost_centre="CC-IT")
    ClaimMapping.objects.create(
        value="it-security", group=Group.objects.get(name=roles.IT_REVIEWERS)
    )
    ClaimMapping.objects.create(value="cio-office", group=Group.objects.get(name=roles.CIO))
    ClaimMapping.objects.create(value="buyers", group=Group.objects.get(name=roles.PROCUREMENT))
    provider.set_claims("sub-ivy-7f3a", **USERS["sub-ivy-7f3a"])
    provider.it_department = it
    return provider


def group_names(user) -> set[str]:
    return set(User.objects.get(pk=user.pk).groups.values_list("name", flat=True))


def signed_in_user(client):
    return User.objects.get(pk=client.session["_auth_user_id"])


def test_without_a_provider_the_sign_in_page_has_no_sso_button_and_passwords_work(
    client, requester
):
    page = client.get("/accounts/login/").content.decode()
    assert "Sign in with" not in page and "sso-sign-in" not in page
    response = client.post("/accounts/login/", {"username": "rita", "password": "secret-pass-123"})
    assert response.status_code == 302 and response["Location"] == "/requests/"
    assert client.session["_auth_user_id"] == str(requester.pk)


def test_with_a_provider_the_sign_in_page_offers_it(client, sso):
    page = client.get("/accounts/login/").content.decode()
    assert "Sign in with Example Corp" in page
    assert 'action="/auth/oidc/company/login/"' in page
    assert 'name="password"' in page  # local sign-in is still there (SSO-only is off)


def test_first_sign_in_makes_the_person_with_the_mapped_roles_and_department(client, sso):
    response = sso.sign_in(client, "sub-ivy-7f3a")
    assert response.status_code == 302 and response["Location"] == "/requests/"
    user = signed_in_user(client)
    assert (user.username, user.first_name, user.last_name) == ("ivy", "Ivy", "Sato")
    assert user.email == "ivy@corp.example"
    assert user.department == sso.it_department
    assert group_names(user) == {roles.IT_REVIEWERS}
    assert not user.has_usable_password()
    assert SocialAccount.objects.get(user=user).uid == "sub-ivy-7f3a"
    # The page people land on works, with the reviewer's navigation.
    page = client.get("/requests/").content.decode()
    assert "Vendors" in page and "Ivy Sato" in page


def test_a_group_removed_at_the_provider_is_removed_at_the_next_sign_in(client, sso):
    sso.sign_in(client, "sub-ivy-7f3a")
    ivy = signed_in_user(client)
    # A role the mappings do not govern, given by an admin, is left alone.
    ivy.groups.add(Group.objects.get(name=roles.FINANCE))
    client.post("/accounts/logout/")

    sso.set_claims("sub-ivy-7f3a", groups=["all-staff", "buyers"])
    sso.sign_in(client, "sub-ivy-7f3a")
    assert signed_in_user(client) == ivy  # found again by sub: the same person
    assert group_names(ivy) == {roles.PROCUREMENT, roles.FINANCE}
    assert User.objects.filter(username__startswith="ivy").count() == 1

    client.post("/accounts/logout/")
    sso.set_claims("sub-ivy-7f3a", groups=[])
    sso.sign_in(client, "sub-ivy-7f3a")
    assert group_names(ivy) == {roles.FINANCE}


def test_people_are_matched_by_sub_never_by_e_mail(client, sso):
    """A local user with the provider user's address is not taken over by that sign-in."""
    local = UserFactory(username="carl", email="carl@corp.example", roles=[roles.FINANCE])
    sso.sign_in(client, "sub-carl-91bd")
    carl = signed_in_user(client)
    assert carl != local
    assert carl.username != "carl"  # the name was taken: a free one is made
    assert group_names(carl) == {roles.CIO}
    assert group_names(local) == {roles.FINANCE}
    assert not SocialAccount.objects.filter(user=local).exists()


def test_a_deactivated_persons_session_and_tokens_are_refused_on_the_next_request(
    client, sso, it_reviewer
):
    sso.sign_in(client, "sub-ivy-7f3a")
    ivy = signed_in_user(client)
    assert client.get("/requests/").status_code == 200
    _, scoped = tokens.create_token(ivy, name="Reports", scopes=["read"])
    api = APIClient()
    assert api.get("/api/requests/", HTTP_AUTHORIZATION=f"Bearer {scoped}").status_code == 200
    now = timezone.now()
    given = Delegation.objects.create(
        delegator=ivy,
        delegate=it_reviewer,
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=5),
    )
    held = Delegation.objects.create(
        delegator=it_reviewer,
        delegate=ivy,
        starts_at=now + timedelta(days=1),
        ends_at=now + timedelta(days=5),
    )

    services.deactivate_user(ivy)

    response = client.get("/requests/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert api.get("/api/requests/", HTTP_AUTHORIZATION=f"Bearer {scoped}").status_code == 401
    given.refresh_from_db()
    assert given.ends_at <= timezone.now()
    assert not Delegation.objects.filter(pk=held.pk).exists()  # had not started: never applied
    # Nor can they sign in again through the provider.
    response = sso.sign_in(client, "sub-ivy-7f3a")
    assert "_auth_user_id" not in client.session
    assert response["Location"] == "/auth/inactive/"
    assert "can no longer sign in" in client.get("/auth/inactive/").content.decode()


def test_unticking_active_in_the_admin_is_leaving(client, sso, admin_user):
    sso.sign_in(client, "sub-ivy-7f3a")
    ivy = signed_in_user(client)
    _, scoped = tokens.create_token(ivy, name="Reports", scopes=["read"])
    admin = type(client)()
    admin.force_login(admin_user)
    response = admin.post(
        "/admin/accounts/user/", {"action": "deactivate_selected", "_selected_action": [ivy.pk]}
    )
    assert response.status_code == 302
    assert not User.objects.get(pk=ivy.pk).is_active
    assert client.get("/requests/").status_code == 302
    api = APIClient()
    assert api.get("/api/requests/", HTTP_AUTHORIZATION=f"Bearer {scoped}").status_code == 401


def test_the_providers_back_channel_logout_ends_the_persons_sessions(client, sso):
    sso.sign_in(client, "sub-ivy-7f3a")
    other_device = type(client)()
    sso.sign_in(other_device, "sub-ivy-7f3a")
    ivy = signed_in_user(client)
    endpoint = "/auth/oidc/company/backchannel-logout/"

    # Tokens the provider did not sign for Tandem are refused, and end nothing.
    assert client.post(endpoint, {"logout_token": "not-a-token"}).status_code == 400
    wrong_audience = sso.logout_token("sub-ivy-7f3a", audience="another-app")
    assert client.post(endpoint, {"logout_token": wrong_audience}).status_code == 400
    assert client.get("/requests/").status_code == 200
    assert client.get(endpoint).status_code == 405
    assert client.post("/auth/oidc/elsewhere/backchannel-logout/", {}).status_code == 404

    response = type(client)().post(endpoint, {"logout_token": sso.logout_token("sub-ivy-7f3a")})
    assert response.status_code == 200
    for device in (client, other_device):
        assert device.get("/requests/").status_code == 302
    assert User.objects.get(pk=ivy.pk).is_active  # signed out, not switched off


def test_sso_only_refuses_passwords_except_for_break_glass_admins(
    client, sso, settings, requester, admin_user
):
    settings.TANDEM_SSO_ONLY = True
    settings.TANDEM_BREAK_GLASS_ADMINS = ["ada"]
    page = client.get("/accounts/login/").content.decode()
    assert "passwords are switched off" in page
    response = client.post("/accounts/login/", {"username": "rita", "password": "secret-pass-123"})
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    assert "sign in with your company account" in response.content.decode()
    api = APIClient()
    token = api.post("/api/auth/token/", {"username": "rita", "password": "secret-pass-123"})
    assert token.status_code == 400 and "token" not in token.json()

    response = client.post("/accounts/login/", {"username": "ada", "password": "secret-pass-123"})
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(admin_user.pk)
    client.post("/accounts/logout/")
    # And people sign in through the provider as before.
    assert sso.sign_in(client, "sub-ivy-7f3a").status_code == 302
    assert signed_in_user(client).username == "ivy"


def test_people_signed_in_through_the_provider_are_not_asked_for_tandems_own_codes(
    client, sso, settings
):
    """The provider applies its own second factor; Tandem's codes are for local passwords."""
    settings.TANDEM_REQUIRE_MFA = True
    sso.sign_in(client, "sub-carl-91bd")
    assert roles.has_role(signed_in_user(client), roles.CIO)
    assert client.get("/requests/").status_code == 200


def test_unticking_active_on_the_persons_admin_page_is_leaving(client, admin_user, requester):
    client.force_login(admin_user)
    _, scoped = tokens.create_token(requester, name="Reports", scopes=["read"])
    response = client.post(
        f"/admin/accounts/user/{requester.pk}/change/",
        {
            "username": requester.username,
            "first_name": requester.first_name,
            "last_name": requester.last_name,
            "email": requester.email,
            "date_joined_0": "2026-01-05",
            "date_joined_1": "09:00:00",
            "time_zone": "UTC",
            "_save": "Save",
        },  # "is_active" left out: the box is unticked
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert not User.objects.get(pk=requester.pk).is_active
    refused = APIClient().get("/api/requests/", HTTP_AUTHORIZATION=f"Bearer {scoped}")
    assert refused.status_code == 401
    page = client.get(response["Location"]).content.decode()
    assert "can no longer sign in; their sessions, API tokens and delegations ended" in page


def test_a_person_of_the_provider_gets_no_tandem_password_unless_an_admin_allows_it(client, sso):
    sso.sign_in(client, "sub-ivy-7f3a")
    ivy = signed_in_user(client)
    assert not ivy.has_usable_password()
    new = {"password1": "a-long-new-pass-4821", "password2": "a-long-new-pass-4821"}
    for address in ("/auth/password/set/", "/auth/password/change/"):
        response = client.get(address)
        assert response.status_code == 403
        assert "identity provider" in response.content.decode()
        assert client.post(address, new).status_code == 403
    assert not User.objects.get(pk=ivy.pk).has_usable_password()

    User.objects.filter(pk=ivy.pk).update(may_set_local_password=True)
    assert client.get("/auth/password/set/").status_code == 200
    client.post("/auth/password/set/", new)
    assert User.objects.get(pk=ivy.pk).check_password("a-long-new-pass-4821")


def test_a_local_person_still_changes_their_password(client, requester):
    client.force_login(requester)
    assert client.get("/auth/password/change/").status_code == 200
