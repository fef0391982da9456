"""The Budgets page in a real Chromium (issue #29 item 2): Fiona, in finance, opens Budgets
from the menu on a phone (390 px) and on a laptop (1366 px), reads each budget's figures, the
burn-down and the request that takes Marketing over, follows Import budgets and comes back;
axe-core finds no WCAG 2.1 AA violation and no serious best-practice one; nothing scrolls
sideways. The page runs under the site's Content-Security-Policy (tests/e2e/accessibility.py)."""

from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Department
from budgets import fiscal, selectors
from budgets.models import Budget
from tests.e2e.accessibility import AXE, PHONE, axe_violations, describe, sideways_overflow
from tests.factories import PurchaseRequestFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1366, "height": 768}


def assert_accessible(page: Page):
    """The pattern of test_operations.py: no WCAG 2.1 A/AA violation of any impact; and the
    shared check: no serious or critical one among axe's best practices either."""
    page.evaluate(AXE.read_text())
    wcag = page.evaluate(
        """async () => (await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a',
        'wcag21aa']})).violations.map(v => v.id + ': ' + v.nodes.map(n => n.target).join(' '))"""
    )
    assert wcag == [], "\n".join(wcag)
    serious = axe_violations(page)
    assert not serious, describe(serious)


def open_budgets_from_the_menu(page: Page, *, phone: bool):
    page.get_by_role("link", name="Tandem").click()
    expect(page.get_by_role("heading", name="My requests")).to_be_visible()
    if phone:
        page.get_by_role("button", name="Toggle navigation").click()
    budgets = page.get_by_role("navigation", name="Main").get_by_role("link", name="Budgets")
    expect(budgets).to_be_visible()  # the menu opens with a transition
    with page.expect_navigation(url="**/budgets/"):
        budgets.click()
    expect(page.get_by_role("heading", name="Budgets", level=1)).to_be_visible()


@pytest.fixture
def marketing_over_budget(db):
    """Marketing, this fiscal year: 10,000 allocated; 2,000 received, 1,500 ordered, 4,000
    approved (committed 7,500, spent 2,000); 3,542 in review: 1,042 over."""
    year = selectors.current_fiscal_year()
    first, _ = fiscal.bounds(year)
    marketing = Department.objects.create(name="Marketing", cost_centre="MKT")
    owner = UserFactory(username="owen", first_name="Owen", last_name="Owner")
    Budget.objects.create(
        department=marketing, fiscal_year=year, amount=Decimal("10000"), owner=owner
    )
    made = {}
    for state, total, title in (
        ("closed", "2000", "Laptops"),
        ("ordered", "1500", "Survey tool"),
        ("approved", "4000", "Event platform"),
        ("in_review", "3542", "Video production suite"),
    ):
        made[state] = PurchaseRequestFactory(
            department=marketing, state=state, needed_by=first, total_cost=Decimal(total),
            title=title, line_items=[("Item", "1", total)],
        )  # fmt: skip
    return made


def test_fiona_reads_the_budgets_and_their_overrun_and_imports(
    live_server, sign_in, page: Page, marketing_over_budget
):
    fiona = UserFactory(username="fiona", first_name="Fiona", last_name="Fink", roles=["finance"])
    video = marketing_over_budget["in_review"]
    page.set_viewport_size(LAPTOP)
    sign_in(fiona)
    open_budgets_from_the_menu(page, phone=False)

    marketing = page.get_by_role("region", name="Marketing")
    row = marketing.locator("tr[data-budget]")
    expect(row.locator("[data-allocated]")).to_have_text("10,000.00 EUR")
    expect(row.locator("[data-committed]")).to_have_text("7,500.00 EUR")
    expect(row.locator("[data-spent]")).to_have_text("2,000.00 EUR")
    expect(row.locator("[data-in-review]")).to_have_text("3,542.00 EUR")
    expect(row.locator("[data-available]")).to_have_text("-1,042.00 EUR")
    expect(row.locator("[data-budget-state]")).to_have_text("Over by 1,042.00 EUR")
    # The burn-down, in words and as a meter named by them.
    meter = marketing.get_by_role("meter")
    expect(meter).to_have_accessible_name(
        "Used 110%: 11,042.00 EUR of 10,000.00 EUR is committed or in review, "
        "2,000.00 EUR of it spent."
    )
    overruns = page.get_by_role("table", name="Requests that take a budget over")
    expect(overruns.locator("tbody tr")).to_have_count(2)  # approved and in review
    expect(overruns.locator("tbody tr").first).to_contain_text("Event platform")
    assert sideways_overflow(page) <= 0
    assert_accessible(page)

    page.get_by_role("link", name="Import budgets").click()
    expect(page.get_by_role("heading", name="Import a year's budgets")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Back to Budgets").click()
    expect(page.get_by_role("heading", name="Budgets", level=1)).to_be_visible()

    # On a phone: the same from the collapsed menu, nothing scrolls sideways.
    page.set_viewport_size(PHONE)
    open_budgets_from_the_menu(page, phone=True)
    row = page.get_by_role("region", name="Marketing").locator("tr[data-budget]")
    expect(row.locator("[data-available]")).to_be_visible()
    expect(row.locator("[data-available]")).to_have_text("-1,042.00 EUR")
    expect(row.locator("[data-budget-state]")).to_have_text("Over by 1,042.00 EUR")
    expect(page.get_by_role("meter")).to_be_visible()
    assert sideways_overflow(page) <= 0
    assert_accessible(page)

    # An overrun leads to its request.
    page.get_by_role("link", name=video.number).click()
    expect(page.get_by_role("heading", name=video.title)).to_be_visible()
