"""After approval in a real browser (issue 13): Paul finds the approved request in Waiting for
me as his item to order, records the PO; confirming receipt is then Rita's item, and closing the
request clears it. The closed request's page tells the end of its story (issue 29, item 8): who
closed it and when, the rating Rita gives, no duplicate warning; axe finds nothing."""

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts import roles
from approvals import workflow
from approvals.services import decide_step
from core.formats import day
from intake.models import State
from tests.e2e.accessibility import axe_violations, describe
from tests.factories import PurchaseRequestFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def sign_out(page: Page, live_server):
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")


def open_from_waiting_for_me(page: Page, number: str, task: str):
    page.get_by_role("link", name="Waiting for me").click()
    expect(page.get_by_role("heading", name="Waiting for me")).to_be_visible()
    row = page.locator(f'#waiting-for-me tr[data-number="{number}"]')
    expect(row).to_have_count(1)
    expect(row).to_contain_text(task)
    row.get_by_role("link", name=number).click()
    expect(page.get_by_text(number, exact=True)).to_be_visible()


def test_paul_orders_the_approved_request_and_rita_confirms_receipt(live_server, sign_in):
    rita = UserFactory(username="rita", first_name="Rita", last_name="Requester")
    ivan = UserFactory(
        username="ivan", first_name="Ivan", last_name="Itreview", roles=[roles.IT_REVIEWERS]
    )
    paul = UserFactory(
        username="paul", first_name="Paul", last_name="Procure", roles=[roles.PROCUREMENT]
    )
    purchase_request = workflow.submit_request(PurchaseRequestFactory(requester=rita), by=rita)
    # Another request with the same vendor, still in review: a duplicate while Rita's is open.
    sibling = PurchaseRequestFactory(vendor=purchase_request.vendor, state=State.IN_REVIEW)
    for person, side in ((ivan, "it"), (paul, "procurement")):
        decide_step(purchase_request.steps.get(side=side), by=person, decision="approve")
    number = purchase_request.number

    page = sign_in(paul)
    open_from_waiting_for_me(page, number, "To order: record the purchase order")
    expect(page.locator(f'[data-duplicate="{sibling.number}"]')).to_be_visible()
    expect(page.locator('#after-approval ~ [data-work-item="order"]')).to_contain_text("To do")
    page.get_by_label("PO number").fill("PO-2026-0042")
    page.get_by_role("button", name="Mark as ordered").click()
    expect(
        page.get_by_role("alert").filter(has_text=f"{number}: marked as ordered")
    ).to_be_visible()
    order = page.locator('[data-work-item="order"]')
    expect(order).to_have_attribute("data-step-state", "done")
    expect(order).to_contain_text("Paul Procure recorded the order")
    page.get_by_role("link", name="Waiting for me").click()
    expect(page.get_by_text("Nothing waits for you right now.")).to_be_visible()
    sign_out(page, live_server)

    page = sign_in(rita)
    open_from_waiting_for_me(page, number, "Confirm receipt when it arrives")
    page.get_by_role("button", name="Close the request").click()
    expect(page.get_by_role("alert").filter(has_text=f"{number}: closed")).to_be_visible()
    expect(page.locator('[data-work-item="receipt"]')).to_have_attribute("data-step-state", "done")
    expect(page.locator("#timeline")).to_contain_text("Ordered, PO PO-2026-0042")
    expect(page.locator("#closed-by")).to_have_text(
        f"Closed on {day(timezone.localdate())} by Rita Requester"
    )
    expect(page.locator("[data-duplicate]")).to_have_count(0)
    page.get_by_label("Delivery (1–5)").fill("5")
    page.get_by_label("Quality (1–5)").fill("4")
    page.get_by_label("Support (1–5)").fill("3")
    page.get_by_label("Comment", exact=True).fill("Fast delivery")
    page.get_by_role("button", name="Save rating").click()
    rating = page.locator('[data-rating="rita"]')
    expect(rating).to_contain_text("Rated 4 of 5: “Fast delivery”")
    expect(page.get_by_role("button", name="Save rating")).to_have_count(0)
    violations = axe_violations(page)
    assert not violations, describe(violations)
    page.get_by_role("link", name="Waiting for me").click()
    expect(page.get_by_text("Nothing waits for you right now.")).to_be_visible()
