"""The admin's 403 page in a real Chromium (issue 27, item 4): a requester who opens an admin
address, signing in or already signed in, lands on a page that says who can help, with no
redirect loop, no link into the admin, nothing axe-core finds (WCAG 2.1 AA) and no horizontal
scrolling at 390 px. The site's Content-Security-Policy stays on: axe-core is evaluated through
the browser's developer protocol, not added as a script of the page."""

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.accessibility import AXE, PHONE, axe_violations, describe, sideways_overflow
from tests.e2e.conftest import PASSWORD
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_requester_opening_the_admin_meets_a_page_that_says_whom_to_ask(live_server, page: Page):
    UserFactory(
        username="ada", first_name="Ada", last_name="Admin", email="ada@tandem.example",
        is_staff=True, is_superuser=True,
    )  # fmt: skip
    rita = UserFactory(username="rita")
    csp_violations = []
    page.on("console", lambda m: "Content Security Policy" in m.text and csp_violations.append(m))

    # Signed out: the admin address leads to the sign-in page, which leads back once.
    response = page.goto(f"{live_server.url}/admin/budgets/budget/")
    assert response.headers.get("content-security-policy")
    expect(page.get_by_label("Username")).to_be_visible()
    page.get_by_label("Username").fill(rita.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    heading = page.get_by_role("heading", name="This part of Tandem is for its administrators")
    expect(heading).to_be_visible()
    assert page.url == f"{live_server.url}/admin/budgets/budget/"
    expect(page.get_by_role("link", name="ada@tandem.example")).to_have_attribute(
        "href", "mailto:ada@tandem.example"
    )
    assert page.locator('a[href^="/admin"]').count() == 0
    expect(page.get_by_role("link", name="Admin", exact=True)).to_have_count(0)

    # Signed in: any other admin address answers the same page, at once.
    response = page.goto(f"{live_server.url}/admin/")
    assert response.status == 403
    expect(heading).to_be_visible()
    page.get_by_role("link", name="Go to My requests").click()
    expect(page.get_by_role("heading", name="My requests")).to_be_visible()

    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    expect(heading).to_be_visible()
    page.evaluate(AXE.read_text())  # as the developer protocol, so the CSP does not apply
    violations = axe_violations(page)
    assert not violations, describe(violations)
    page.set_viewport_size(PHONE)
    expect(heading).to_be_visible()
    assert sideways_overflow(page) <= 0
    assert csp_violations == []
