"""A decision link from a "for your decision" e-mail in a real browser, at phone width: the
link asks the reviewer to sign in, comes back to the decision page (request summary and
buttons, nothing decided by opening it), and the reviewer decides there. A forwarded link
opened by a colleague shows why it does not decide. Every page is axe-clean at 390 px."""

import pytest
from playwright.sync_api import Page, expect

from accounts import roles
from approvals import workflow
from approvals.models import StepState
from reach import services
from reach.models import TokenKind
from tests.e2e.accessibility import PHONE, axe_violations, describe, sideways_overflow
from tests.e2e.conftest import PASSWORD
from tests.factories import PurchaseRequestFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def it_step(requester, it_reviewer, procurement):
    purchase_request = PurchaseRequestFactory(requester=requester, title="Figma seats")
    workflow.submit_request(purchase_request, by=requester)
    return purchase_request.steps.get(side="it")


def assert_clean(page: Page) -> None:
    violations = axe_violations(page)
    assert not violations, describe(violations)
    assert sideways_overflow(page) <= 0


def test_sign_in_then_decide_from_the_link(live_server, page: Page, it_step, it_reviewer):
    page.set_viewport_size(PHONE)
    link = f"/decide/{services.issue_token(it_reviewer, it_step, TokenKind.LINK)}/"
    page.goto(f"{live_server.url}{link}")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    page.get_by_label("Username").fill(it_reviewer.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(f"{live_server.url}{link}")
    expect(page.get_by_role("heading", name="Figma seats")).to_be_visible()
    expect(page.get_by_text("For your decision · IT review")).to_be_visible()
    assert_clean(page)
    it_step.refresh_from_db()
    assert it_step.state == StepState.OPEN  # opening the link decided nothing

    page.get_by_label("Comment").fill("Security is fine with it")
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("heading", name="Figma seats")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("IT review step approved")
    it_step.refresh_from_db()
    assert (it_step.state, it_step.decided_by) == (StepState.APPROVED, it_reviewer)

    page.goto(f"{live_server.url}{link}")  # the same link again
    expect(page.get_by_role("heading", name="This link cannot decide anything")).to_be_visible()
    expect(page.locator("#why")).to_contain_text("already used")
    expect(page.get_by_role("link", name="Open PR-")).to_be_visible()
    assert_clean(page)


def test_a_reason_is_asked_for_on_the_page(live_server, sign_in, page: Page, it_step, it_reviewer):
    link = f"/decide/{services.issue_token(it_reviewer, it_step, TokenKind.LINK)}/"
    sign_in(it_reviewer)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}{link}")
    page.get_by_role("button", name="Reject").click()
    expect(page.get_by_text("a comment is required")).to_be_visible()
    assert_clean(page)
    page.get_by_label("Comment").fill("We have a licence already")
    page.get_by_role("button", name="Reject").click()
    expect(page.get_by_role("alert")).to_contain_text("IT review step rejected")


def test_a_forwarded_link_shows_why_it_does_not_decide(
    live_server, sign_in, page: Page, it_step, it_reviewer
):
    colleague = UserFactory(username="iris", roles=[roles.IT_REVIEWERS])
    link = f"/decide/{services.issue_token(it_reviewer, it_step, TokenKind.LINK)}/"
    sign_in(colleague)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}{link}")
    expect(page.locator("#why")).to_contain_text("sent to somebody else")
    expect(page.get_by_role("link", name="Waiting for me").last).to_be_visible()
    assert_clean(page)
    it_step.refresh_from_db()
    assert it_step.state == StepState.OPEN
