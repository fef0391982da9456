"""A step nobody may decide goes to the side's leader, in a real browser at 390 and 1366 px
(issue 29, item 1): Paul, the only procurement reviewer, proposes Figma; four eyes bars him
from its review's procurement step, so Cleo (CPO) finds it in Waiting for me, and the vendor's
page says why she decides. No sideways scrolling; axe clean."""

import pytest
from playwright.sync_api import expect

from accounts import roles
from approvals import workflow
from tests.e2e.accessibility import axe_violations, describe
from tests.factories import PurchaseRequestFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 900}}


@pytest.fixture
def figma_proposed_by_paul():
    paul = UserFactory(
        username="pp", first_name="Paul", last_name="Pruitt", roles=[roles.PROCUREMENT]
    )
    UserFactory(username="ivo", first_name="Ivan", last_name="Ito", roles=[roles.IT_REVIEWERS])
    cleo = UserFactory(username="cc", first_name="Cleo", last_name="Chief", roles=[roles.CPO])
    draft = PurchaseRequestFactory(
        requester=paul, vendor=None, proposed_vendor_name="Figma", proposed_vendor_website=""
    )
    workflow.submit_request(draft, by=paul)
    return cleo


def no_sideways_scrolling(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_cpo_finds_the_step_paul_may_not_decide_and_reads_why(
    live_server, sign_in, figma_proposed_by_paul, width
):
    page = sign_in(figma_proposed_by_paul)
    page.set_viewport_size(WIDTHS[width])
    page.goto(f"{live_server.url}/approvals/")
    row = page.locator('tr[data-vendor="Figma"]')
    expect(row).to_be_visible()
    assert no_sideways_scrolling(page)
    violations = axe_violations(page)
    assert not violations, describe(violations)

    row.get_by_role("link").first.click()
    expect(page.get_by_role("heading", name="Figma", exact=True)).to_be_visible()
    expect(page.locator("#steps")).to_contain_text(
        "Paul Pruitt proposed this vendor or named it on a request, so Cleo Chief (CPO) decides"
    )
    assert no_sideways_scrolling(page)
    violations = axe_violations(page)
    assert not violations, describe(violations)
