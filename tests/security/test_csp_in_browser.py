"""The Content-Security-Policy in a real browser (Debian's chromium): the pages people use run
with no violation at all (no inline script, no inline style, nothing from elsewhere), htmx
still works, and the withdraw confirmation, now a static script, still guards the button."""

import pytest
from playwright.sync_api import Page, expect

from approvals import workflow
from intake.models import PurchaseRequest
from tests.factories import PurchaseRequestFactory
from tests.security.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TIMEOUT_MS = 15_000


class Violations:
    """CSP violations the page reports, from the console and the securitypolicyviolation event
    (the init script runs before the page's own and is not subject to its policy)."""

    def __init__(self, page: Page):
        self.page = page
        self.console: list[str] = []
        page.on("console", self._on_console)
        page.add_init_script(
            "window.__csp = [];"
            "document.addEventListener('securitypolicyviolation', (e) => "
            "window.__csp.push(`${e.effectiveDirective} ${e.blockedURI} ${e.sourceFile}`));"
        )

    def _on_console(self, message):
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            self.console.append(message.text[:300])

    def collect(self) -> list[str]:
        events = self.page.evaluate("window.__csp || []")
        return self.console + events


@pytest.fixture
def browser_page(page: Page, live_server):
    page.set_default_timeout(TIMEOUT_MS)
    page.set_default_navigation_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    return page


def sign_in(page: Page, live_server, user):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="My requests")).to_be_visible()


def visit(page: Page, live_server, violations: Violations, path: str) -> list[str]:
    violations.console.clear()
    response = page.goto(f"{live_server.url}{path}")
    assert response.status == 200, path
    page.wait_for_load_state("networkidle")
    return violations.collect()


def test_pages_run_without_a_single_csp_violation(browser_page, live_server, requester, admin_user):
    page = browser_page
    violations = Violations(page)
    pr = workflow.submit_request(PurchaseRequestFactory(requester=requester), by=requester)
    draft = PurchaseRequestFactory(requester=requester, title="Design tool seats for the team")

    problems = {}
    sign_in(page, live_server, requester)
    for path in [
        "/requests/",
        "/requests/new/",
        f"/requests/{draft.pk}/edit/",
        f"/requests/{pr.pk}/",
        "/approvals/",
        "/notifications/",
        "/accounts/out-of-office/",
    ]:
        if found := visit(page, live_server, violations, path):
            problems[f"requester {path}"] = found
    # htmx ran its duplicate check on the edit page, header and all, under the policy.
    page.goto(f"{live_server.url}/requests/{draft.pk}/edit/")
    expect(page.locator("[hx-get]").first).to_contain_text(pr.number)

    page.context.clear_cookies()
    sign_in(page, live_server, admin_user)
    for path in [
        "/vendors/",
        f"/vendors/{pr.vendor_id}/",
        "/approvals/rules/preview/?total=30000",
        "/insights/",
        "/admin/",
        "/admin/approvals/approvalrule/",
    ]:
        if found := visit(page, live_server, violations, path):
            problems[f"admin {path}"] = found
    assert not problems, "\n".join(f"{where}: {found}" for where, found in problems.items())


def test_dismissing_the_withdraw_confirmation_withdraws_nothing(
    browser_page, live_server, requester
):
    page = browser_page
    draft = PurchaseRequestFactory(requester=requester)
    sign_in(page, live_server, requester)
    page.goto(f"{live_server.url}/requests/{draft.pk}/")
    dialogs = []

    def dismiss(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.get_by_role("button", name="Withdraw").click()
    expect(page.get_by_role("button", name="Withdraw")).to_be_visible()
    assert dialogs == [f"Withdraw {draft.number}? This cannot be undone."]
    page.wait_for_load_state("networkidle")
    assert PurchaseRequest.objects.get(pk=draft.pk).state == "draft"


def test_the_api_docs_run_without_a_csp_violation(browser_page, live_server, requester):
    page = browser_page
    violations = Violations(page)
    sign_in(page, live_server, requester)
    found = visit(page, live_server, violations, "/api/docs/")
    expect(page.get_by_text("Tandem API").first).to_be_visible()
    assert found == []
