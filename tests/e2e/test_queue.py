"""The reviewer's queue in a real browser (issue 14, item 5): an IT reviewer sees the count in
the navigation, filters and sorts "Waiting for me", decides the first step and lands on the
next one of the same queue until it is empty; the CIO drills the team view down by stage and
side and sees who holds each step. Phone width: the queue does not scroll sideways."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts import roles
from approvals import workflow
from tests.factories import CategoryFactory, PurchaseRequestFactory, UserFactory, VendorFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def file(requester, **fields):
    return workflow.submit_request(
        PurchaseRequestFactory(requester=requester, **fields), by=requester
    )


@pytest.fixture
def queue(requester):
    software = CategoryFactory(name="E2E Software", slug="e2e-software")
    hardware = CategoryFactory(name="E2E Hardware", slug="e2e-hardware")
    with time_machine.travel(timezone.now() - timedelta(days=3)):
        overdue = file(requester, title="Old seats", category=software, total_cost=Decimal("100"))
    big = file(
        requester,
        title="Data platform",
        category=software,
        total_cost=Decimal("20000"),
        handles_personal_data=True,
        vendor=VendorFactory(name="Risky Ltd", status="approved", risk_tier="high"),
    )
    laptops = file(requester, title="Laptops", category=hardware, total_cost=Decimal("3000"))
    return {"overdue": overdue, "big": big, "laptops": laptops}


def rows(page: Page):
    return page.locator("#waiting-for-me tbody tr")


def test_a_reviewer_works_through_a_filtered_queue(live_server, sign_in, queue, it_reviewer):
    page = sign_in(it_reviewer)
    expect(page.locator("#waiting-count")).to_have_text("3")
    page.get_by_role("link", name=re.compile("^Waiting for me")).click()

    expect(rows(page)).to_have_count(3)
    first = rows(page).first
    expect(first).to_have_attribute("data-number", queue["overdue"].number)
    expect(first).to_contain_text("overdue")
    big = page.locator(f'tr[data-number="{queue["big"].number}"]')
    for text in ("Risky Ltd", "High", "Yes", "20,000.00 EUR", "E2E Software"):
        expect(big).to_contain_text(text)

    page.get_by_label("Sort by").select_option(label="Highest cost")
    page.get_by_role("button", name="Apply").click()
    expect(rows(page).first).to_have_attribute("data-number", queue["big"].number)

    page.get_by_label("Category").select_option(label="E2E Software")
    page.get_by_role("button", name="Apply").click()
    expect(rows(page)).to_have_count(2)
    expect(page).to_have_url(re.compile(r"category=e2e-software"))

    # Open the first of this queue and approve it: the outcome shows, and "Next in your
    # queue" goes on to the next one of the same queue.
    rows(page).first.get_by_role("link").click()
    expect(page.get_by_role("heading", name="Data platform")).to_be_visible()
    card = page.locator("#decide")
    card.get_by_label("Comment").fill("Fine by IT.")
    card.get_by_role("button", name="Approve").click()

    expect(page.get_by_role("alert").filter(has_text="step approved")).to_be_visible()
    expect(page.locator('#steps [data-side="it"]')).to_have_attribute("data-step-state", "approved")
    expect(page.locator("#waiting-count")).to_have_text("2")
    page.get_by_role("link", name="Next in your queue").click()
    expect(page.get_by_role("heading", name="Old seats")).to_be_visible()
    page.locator("#decide").get_by_role("button", name="Approve").click()
    expect(page.get_by_role("alert").filter(has_text="step approved")).to_be_visible()
    page.get_by_role("link", name="Next in your queue").click()

    # The queue (software, by cost) is empty now: back to it, with its filters.
    expect(
        page.get_by_role("alert").filter(has_text="Nothing else waits for you in this queue")
    ).to_be_visible()
    expect(page.get_by_role("heading", name="Waiting for me")).to_be_visible()
    expect(page.get_by_label("Category")).to_have_value("e2e-software")
    expect(page.locator("#queue-empty")).to_contain_text("No step waiting for you matches")
    page.get_by_role("link", name="Show everything waiting for you").click()
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_have_attribute("data-number", queue["laptops"].number)
    expect(page.locator("#waiting-count")).to_have_text("1")


def test_the_cio_drills_the_team_view_down_and_sees_who_holds_each_step(
    live_server, sign_in, queue, cio
):
    UserFactory(username="pia", first_name="Pia", last_name="Procure", roles=[roles.PROCUREMENT])
    page = sign_in(cio)
    page.goto(f"{live_server.url}/approvals/")
    breakdown = page.locator("#team-breakdown")
    expect(breakdown.locator('tr[data-stage="1"][data-side="procurement"]')).to_contain_text("3")

    breakdown.get_by_role("link", name="Procurement").click()

    team = page.locator("#team-steps")
    expect(team.locator("tbody tr")).to_have_count(3)
    expect(team).to_contain_text("Stage 1 · Procurement")
    expect(team).not_to_contain_text("Stage 1 · IT")
    expect(team.locator("[data-holders]").first).to_contain_text("Pia Procure")
    expect(breakdown.locator('tr[aria-current="true"]')).to_have_attribute(
        "data-side", "procurement"
    )

    page.get_by_label("Side", exact=True).last.select_option(label="IT")
    page.locator("#team-filters").get_by_role("button", name="Show").click()
    expect(team.locator("tbody tr")).to_have_count(3)
    expect(team).not_to_contain_text("Pia Procure")
    page.get_by_role("link", name="Every open step").click()
    expect(team.locator("tbody tr")).to_have_count(6)


@pytest.mark.browser_context_args(**PHONE)
def test_the_queue_fits_a_phone(live_server, sign_in, queue, it_reviewer):
    page = sign_in(it_reviewer)
    page.goto(f"{live_server.url}/approvals/")
    expect(rows(page)).to_have_count(3)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width}px wide on a 390px screen"
    # Each cell says what it is once the column headings are out of sight.
    big = page.locator(f'tr[data-number="{queue["big"].number}"]')
    expect(big.locator('td[data-label="Risk tier"]')).to_be_visible()
