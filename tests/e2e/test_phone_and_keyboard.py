"""Phones and keyboards (issue 14, items 9 and 10): at 390 px no page people work on scrolls
sideways and the decision panel comes before the comments; a keyboard alone files and submits
a request and approves a step, with the focus visible at every stop."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from approvals import workflow
from approvals.models import ApprovalRule, RuleKind, StepState
from intake.models import PurchaseRequest, State
from tests.e2e.accessibility import PHONE, sideways_overflow
from tests.e2e.conftest import PASSWORD
from tests.factories import CategoryFactory, PurchaseRequestFactory, VendorFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def busy_requester(requester):
    """A requester with many requests, long titles and long vendor names: what makes tables
    overflow on a phone."""
    ApprovalRule.objects.filter(kind=RuleKind.VENDOR_REVIEW).update(active=False)
    vendor = VendorFactory(name="Northwind Cloud Infrastructure and Analytics Services GmbH")
    requests = []
    for index in range(6):
        purchase_request = PurchaseRequestFactory(
            requester=requester,
            vendor=vendor,
            title=f"Enterprise-wide observability platform subscription renewal {index}",
        )
        requests.append(workflow.submit_request(purchase_request, by=requester))
    return requests


def test_no_sideways_scrolling_at_390_px(
    live_server, sign_in, page: Page, busy_requester, requester, it_reviewer
):
    page.set_viewport_size(PHONE)
    sign_in(requester)
    in_review = busy_requester[0]
    for path in (
        "/requests/",
        "/requests/?state=in_review&sort=cost_high",
        "/requests/new/",
        in_review.get_absolute_url(),
        "/approvals/",
    ):
        page.goto(f"{live_server.url}{path}")
        assert sideways_overflow(page) <= 0, f"{path} scrolls sideways at 390 px"
    page.context.clear_cookies()  # the next person on the same phone
    sign_in(it_reviewer)
    for path in ("/approvals/", in_review.get_absolute_url()):
        page.goto(f"{live_server.url}{path}")
        expect(page.locator("main h1")).to_be_visible()
        assert sideways_overflow(page) <= 0, f"{path} scrolls sideways at 390 px for reviewers"


def test_the_decision_panel_comes_before_the_comments_on_a_phone(
    live_server, sign_in, page: Page, busy_requester, it_reviewer
):
    url = f"{live_server.url}{busy_requester[0].get_absolute_url()}"
    sign_in(it_reviewer)

    page.set_viewport_size(PHONE)
    page.goto(url)
    decide = page.get_by_role("button", name="Approve")
    comments = page.get_by_role("heading", name="Comments")
    assert decide.bounding_box()["y"] < comments.bounding_box()["y"]
    # And in the reading order of the page, not only on screen.
    assert page.evaluate(
        "document.querySelector('#steps').compareDocumentPosition("
        "document.querySelector('#comments')) & Node.DOCUMENT_POSITION_FOLLOWING"
    )

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(url)
    details = page.get_by_role("heading", name="Details").bounding_box()
    steps = page.locator("#steps").bounding_box()
    assert steps["x"] > details["x"] + details["width"] - 1  # a column beside the details
    assert abs(steps["y"] - details["y"]) < 40


# Keyboard only


def tab_to(page: Page, target: Locator, limit: int = 120) -> None:
    """Presses Tab until `target` has the focus (it must be reachable by keyboard) and checks
    that the focus is visible there (an outline drawn around it)."""
    for _ in range(limit):
        if target.evaluate("el => el === document.activeElement"):
            break
        page.keyboard.press("Tab")
    else:
        raise AssertionError(f"{target} is not reachable with the Tab key")
    outline = target.evaluate(
        "el => { const s = getComputedStyle(el); return [s.outlineStyle, s.outlineWidth]; }"
    )
    assert outline[0] != "none" and float(outline[1].rstrip("px")) >= 2, (
        f"no visible focus on {target}: {outline}"
    )


def sign_in_by_keyboard(page: Page, live_server, user) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    tab_to(page, page.get_by_label("Username"))
    page.keyboard.type(user.username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="My requests")).to_be_visible()


def choose(page: Page, select: Locator, text: str) -> None:
    """Picks an option of a focused <select> by typing its first letters, as people do."""
    tab_to(page, select)
    page.keyboard.type(text)
    expect(select.locator("option:checked")).to_have_text(text)


def test_a_request_is_filed_submitted_and_approved_with_the_keyboard_alone(
    live_server, page: Page, requester, it_reviewer, procurement
):
    ApprovalRule.objects.filter(kind=RuleKind.VENDOR_REVIEW).update(active=False)
    CategoryFactory(name="Keyboard licences", slug="keyboard-licences")
    VendorFactory(name="Keyflow")
    needed_by = timezone.localdate() + timedelta(days=40)

    sign_in_by_keyboard(page, live_server, requester)
    tab_to(page, page.get_by_role("link", name="New request").first)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="New purchase request")).to_be_visible()

    tab_to(page, page.get_by_label("Title"))
    page.keyboard.type("Keyboard-only licences")
    tab_to(page, page.get_by_label("Description").first)
    page.keyboard.type("Licences filed without a mouse.")
    choose(page, page.get_by_label("Category"), "Keyboard licences")
    tab_to(page, page.get_by_label("Needed by"))
    page.keyboard.type(needed_by.strftime("%m%d%Y"))
    expect(page.get_by_label("Needed by")).to_have_value(needed_by.isoformat())
    tab_to(page, page.get_by_label("Business justification"))
    page.keyboard.type("The team needs them.")
    tab_to(page, page.locator('[name="items-0-description"]'))
    page.keyboard.type("Licence")
    page.keyboard.press("Tab")
    page.keyboard.type("3")
    page.keyboard.press("Tab")
    page.keyboard.type("40.00")
    choose(page, page.get_by_label("Existing vendor"), "Keyflow")
    choose(page, page.get_by_label("Data classification"), "Internal")
    choose(page, page.get_by_label("Handles personal data"), "No")
    tab_to(page, page.get_by_role("button", name="Submit for review"))
    page.keyboard.press("Enter")

    expect(page.get_by_role("alert").filter(has_text="submitted for review")).to_be_visible()
    purchase_request = PurchaseRequest.objects.get(title="Keyboard-only licences")
    assert purchase_request.state == State.IN_REVIEW
    assert str(purchase_request.total_cost) == "120.00"

    tab_to(page, page.get_by_role("button", name="Sign out"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")
    sign_in_by_keyboard(page, live_server, it_reviewer)
    tab_to(page, page.get_by_role("link", name="Waiting for me"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Waiting for me")).to_be_visible()
    tab_to(page, page.get_by_role("link", name=purchase_request.number, exact=False))
    page.keyboard.press("Enter")
    tab_to(page, page.get_by_label("Comment", exact=True))
    page.keyboard.type("Fine from IT.")
    tab_to(page, page.get_by_role("button", name="Approve"))
    page.keyboard.press("Enter")

    expect(page.get_by_role("alert").filter(has_text="IT review step approved")).to_be_visible()
    step = purchase_request.steps.get(side="it")
    assert step.state == StepState.APPROVED
    assert step.decided_by == it_reviewer and step.comment == "Fine from IT."


def test_focus_is_visible_on_links_buttons_and_fields(live_server, sign_in, page: Page, requester):
    PurchaseRequestFactory(requester=requester)
    sign_in(requester)
    for target in (
        page.get_by_role("link", name="My requests"),
        page.get_by_role("button", name="Sign out"),
        page.get_by_label("Search"),
        page.get_by_label("State"),
        page.get_by_role("button", name="Apply"),
        page.locator("#my-requests a").first,
    ):
        page.keyboard.press("Escape")
        page.locator("body").evaluate("el => el.focus()")
        tab_to(page, target)


def test_sign_out_from_the_phone_menu(live_server, sign_in, page: Page, busy_requester, requester):
    """The phone's collapsed menu holds Sign out: it signs out, and the next page asks to
    sign in."""
    page.set_viewport_size(PHONE)
    sign_in(requester)
    page.goto(f"{live_server.url}/approvals/")
    page.get_by_role("button", name="Toggle navigation").click()
    sign_out = page.get_by_role("button", name="Sign out")
    expect(sign_out).to_be_visible()
    sign_out.click()
    page.goto(f"{live_server.url}/requests/")
    expect(page.get_by_label("Username")).to_be_visible()
    assert "/accounts/login/" in page.url
