"""Browser tests: Debian's chromium (tests/conftest.py) against pytest-django's live server.

The live server runs in another thread, so these tests need a transactional database; the
root conftest puts the data-migration rows (role groups, default routing rules, categories,
exchange rates) back before each one."""

import pytest
from playwright.sync_api import Page, expect

# tests/factories.py gives every UserFactory user this password.
PASSWORD = "secret-pass-123"
# Generous for a loaded 2-core CI machine; a broken page still fails within seconds of it.
TIMEOUT_MS = 15_000


@pytest.fixture(autouse=True)
def _short_timeouts(page: Page):
    page.set_default_timeout(TIMEOUT_MS)
    page.set_default_navigation_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture
def sign_in(live_server, page: Page):
    """Signs `user` in through the sign-in page, as a person would; lands on My requests."""

    def sign_in(user, password: str = PASSWORD) -> Page:
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="My requests")).to_be_visible()
        return page

    return sign_in
