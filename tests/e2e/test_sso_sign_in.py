"""Signing in with the company's identity provider, in Chromium (issue 19): the sign-in page
offers it, the provider's own page (tests/support/oidc_provider.mjs, a real OpenID Connect
provider in its own process) takes the person's login, and they land in Tandem with the roles
the admin's mappings give their groups. And a CIO who signs in with a password, where two-factor
codes are required, sets up an authenticator app on pages usable at 390 px."""

import re

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import Page, expect

from accounts import roles
from accounts.models import ClaimMapping, User
from tests.accounts.test_two_factor import totp
from tests.e2e.accessibility import axe_violations, describe, sideways_overflow
from tests.e2e.conftest import PASSWORD
from tests.support.oidc import OidcProvider

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

USERS = {
    "sub-ines-02": {
        "preferred_username": "ines",
        "given_name": "Ines",
        "family_name": "Moreau",
        "email": "ines@corp.example",
        "groups": ["it-security", "everyone"],
    }
}


@pytest.fixture
def browser_context_args(browser_context_args):
    # The phone width is the one people use; the site's CSP applies as in production.
    return {**browser_context_args, "viewport": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def provider(live_server, tmp_path_factory):
    idp = OidcProvider(
        tmp_path_factory.mktemp("oidc"), site_urls=[f"{live_server.url}/"], users=USERS
    ).start()
    yield idp
    idp.stop()


def test_signing_in_through_the_providers_page_lands_with_the_mapped_roles(
    live_server, page: Page, provider, settings
):
    """SSO-only, as production runs: the sign-in page's CSP lets its form lead to the provider
    (Chromium holds the POST's redirect to form-action), and the person gets in."""
    settings.SOCIALACCOUNT_PROVIDERS = provider.settings()
    settings.TANDEM_SSO_ONLY = True
    refused = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    ClaimMapping.objects.create(
        value="it-security", group=Group.objects.get(name=roles.IT_REVIEWERS)
    )
    sign_in_page = page.goto(f"{live_server.url}/accounts/login/")
    form_action = re.search(r"form-action ([^;]*)", sign_in_page.headers["content-security-policy"])
    assert form_action.group(1).split() == ["'self'", provider.issuer]
    button = page.get_by_role("button", name="Sign in with Example Corp")
    expect(button).to_be_visible()
    assert sideways_overflow(page) <= 0
    violations = axe_violations(page)
    assert not violations, describe(violations)

    button.click()
    # The provider's own sign-in page, on its own origin.
    expect(page).to_have_url(re.compile(rf"^{re.escape(provider.issuer)}/interaction/"))
    page.locator("input[name=login]").fill("sub-ines-02")
    page.locator("input[name=password]").fill("her-password-at-the-provider")
    page.get_by_role("button", name="Sign-in").click()

    expect(page.get_by_role("heading", name="My requests")).to_be_visible()
    assert page.url.startswith(live_server.url)
    page.get_by_role("button", name="Toggle navigation").click()
    expect(page.get_by_role("link", name="Vendors")).to_be_visible()  # a reviewer's page
    expect(page.get_by_role("link", name="Ines Moreau")).to_be_visible()
    ines = User.objects.get(socialaccount__uid="sub-ines-02")
    assert set(ines.groups.values_list("name", flat=True)) == {roles.IT_REVIEWERS}
    assert not refused, refused


def test_a_cio_sets_up_an_authenticator_app_before_going_on(live_server, page: Page, settings, cio):
    settings.TANDEM_REQUIRE_MFA = True
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(cio.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", name="Activate Authenticator App")).to_be_visible()
    expect(page.get_by_text("Your role needs a second step at sign-in")).to_be_visible()
    assert sideways_overflow(page) <= 0
    violations = axe_violations(page)
    assert not violations, describe(violations)
    secret = page.get_by_label("Authenticator secret").input_value()
    page.get_by_label("Authenticator code").fill(totp(secret))
    page.get_by_role("button", name="Activate").click()

    expect(page.get_by_role("heading", name="Recovery Codes")).to_be_visible()
    violations = axe_violations(page)
    assert not violations, describe(violations)
    page.goto(f"{live_server.url}/requests/")
    expect(page.get_by_role("heading", name="My requests")).to_be_visible()
