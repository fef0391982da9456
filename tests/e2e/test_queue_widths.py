""" "Waiting for me" and its team view on a phone and on a laptop (issue 29, item 5): with
titles as long as a request's may be, nothing spills out of its box and nothing is cut: no
sideways scrolling of the page or of the queue's box, no cell wider than itself, due dates
whole inside their cells, the full title kept in the link (its text and its tooltip); axe
finds nothing serious."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts import roles
from approvals import workflow
from tests.e2e.accessibility import axe_violations, describe
from tests.factories import CategoryFactory, PurchaseRequestFactory, UserFactory, VendorFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"phone": {"width": 390, "height": 844}, "laptop": {"width": 1366, "height": 768}}
LONG_TITLE = (
    "Company-wide renewal of the engineering design and collaboration suite with single "
    "sign-on, audit logging, premium support and the data residency add-on for the EU offices"
)
# Every element that must hold what it shows: the page, the queue's boxes and their cells.
OVERFLOWING = """() => {
  const boxes = [document.documentElement, document.querySelector('main'),
                 ...document.querySelectorAll('.queue-box, .queue-box td, .queue-box th')];
  return boxes.filter(el => el.scrollWidth > el.clientWidth + 1)
    .map(el => `${el.tagName}.${el.className} ${el.dataset.label || ''}: `
               + `${el.scrollWidth} > ${el.clientWidth}`);
}"""
# Due times that do not lie whole inside their cell (or the window).
CUT_DUE = """() => [...document.querySelectorAll('[data-due]')].filter(td => {
  const cell = td.getBoundingClientRect(), time = td.querySelector('time').getBoundingClientRect();
  return time.width === 0 || time.left < cell.left - 1 || time.right > cell.right + 1
    || time.right > window.innerWidth;
}).map(td => td.textContent.trim())"""


@pytest.fixture
def long_queue(requester):
    software = CategoryFactory(name="Enterprise collaboration software", slug="e2e-collab")
    vendor = VendorFactory(
        name="Extraordinarily Long Vendor Name International GmbH", status="approved"
    )
    filed = []
    for days in (6, 2, 0):
        with time_machine.travel(timezone.now() - timedelta(days=days)):
            filed.append(
                workflow.submit_request(
                    PurchaseRequestFactory(
                        requester=requester,
                        title=f"{LONG_TITLE} ({days})",
                        category=software,
                        vendor=vendor,
                        total_cost=Decimal("1234567.89"),
                        handles_personal_data=True,
                    ),
                    by=requester,
                )
            )
    return filed


def assert_fits(page: Page, table: str):
    expect(page.locator(f"{table} tbody tr").first).to_be_visible()
    assert page.evaluate(OVERFLOWING) == []
    assert page.evaluate(CUT_DUE) == []
    link = page.locator(f"{table} tbody tr").first.get_by_role("link").first
    assert LONG_TITLE in link.inner_text() or LONG_TITLE in link.text_content()
    assert LONG_TITLE in link.get_attribute("title")
    violations = axe_violations(page)
    assert not violations, describe(violations)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_queue_fits_with_long_titles(live_server, sign_in, long_queue, it_reviewer, width):
    page = sign_in(it_reviewer)
    page.set_viewport_size(WIDTHS[width])
    page.goto(f"{live_server.url}/approvals/")
    expect(page.locator("#waiting-for-me tbody tr")).to_have_count(3)
    assert_fits(page, "#waiting-for-me")
    if width == "laptop":
        # A table, its title cut to two lines at most.
        expect(page.locator("#waiting-for-me thead")).to_be_visible()
        link = page.locator("#waiting-for-me tbody tr").first.get_by_role("link").first
        lines = link.evaluate(
            "a => Math.round(a.getBoundingClientRect().height"
            " / parseFloat(getComputedStyle(a).lineHeight))"
        )
        assert lines <= 2
    else:
        # Cards: the labels say what each line is, and the title takes the card's width.
        row = page.locator("#waiting-for-me tbody tr").first
        expect(row.locator('td[data-label="Due"]')).to_be_visible()
        box = row.get_by_role("link").first.bounding_box()
        assert box["width"] > 300


@pytest.mark.parametrize("width", WIDTHS)
def test_the_team_view_fits_with_long_titles(live_server, sign_in, long_queue, cio, width):
    UserFactory(username="pia", first_name="Pia", last_name="Procure", roles=[roles.PROCUREMENT])
    page = sign_in(cio)
    page.set_viewport_size(WIDTHS[width])
    page.goto(f"{live_server.url}/approvals/#team")
    expect(page.locator("#team-steps tbody tr")).to_have_count(6)
    assert_fits(page, "#team-steps")
