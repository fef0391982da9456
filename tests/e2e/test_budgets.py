"""Budgets and renewals in a real Chromium (issue 17): the request form's live budget panel,
the budgets on the insights dashboard and the renewals page, each axe-core clean and usable
at 390 px."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from budgets import fiscal, services
from budgets.models import Budget
from tests.e2e.accessibility import PHONE, axe_violations, describe, sideways_overflow
from tests.factories import PurchaseRequestFactory, UserFactory, VendorFactory
from vendors.models import Contract

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def line(page, row, column):
    return page.locator(f'[name="items-{row}-{column}"]')


def assert_accessible(page):
    violations = axe_violations(page)
    assert not violations, describe(violations)


def test_the_budget_panel_follows_the_line_items(live_server, sign_in, requester):
    starts = timezone.localdate() + timedelta(days=20)
    owner = UserFactory(username="olga", first_name="Olga", last_name="Owner", roles=["finance"])
    Budget.objects.create(
        department=requester.department,
        fiscal_year=fiscal.fiscal_year_of(starts),
        amount=Decimal("5000"),
        owner=owner,
    )
    PurchaseRequestFactory(
        department=requester.department, state="approved", total_cost=Decimal("3000"),
        needed_by=starts,
    )  # fmt: skip
    page = sign_in(requester)
    page.goto(f"{live_server.url}/requests/new/")
    panel = page.locator("#budget-panel")
    page.get_by_label("Needed by").fill(starts.isoformat())
    page.get_by_label("Needed by").dispatch_event("change")
    expect(panel).to_contain_text("2,000.00 EUR")  # available now
    line(page, 0, "description").fill("Licence")
    line(page, 0, "quantity").fill("2")
    line(page, 0, "unit_price").fill("500")
    expect(panel.locator("[data-takes]")).to_have_text("1,000.00 EUR")
    expect(panel.locator("[data-remaining]")).to_have_text("1,000.00 EUR")
    expect(panel).to_contain_text("Within budget.")

    line(page, 0, "quantity").fill("5")
    expect(panel.locator("[data-takes]")).to_have_text("2,500.00 EUR")
    expect(panel.locator("[data-overrun]")).to_contain_text(
        "Olga Owner, who owns the budget, approves it after the reviews"
    )
    assert_accessible(page)
    page.set_viewport_size(PHONE)
    expect(panel).to_be_visible()
    assert sideways_overflow(page) <= 0


def test_the_dashboard_shows_budgets_as_a_chart_and_a_table(live_server, sign_in, cio):
    year = fiscal.fiscal_year_of(timezone.localdate())
    first, _ = fiscal.bounds(year)
    department = cio.department
    Budget.objects.create(
        department=department, fiscal_year=year, amount=Decimal("10000"), owner=cio
    )
    PurchaseRequestFactory(
        department=department, state="approved", total_cost=Decimal("4000"), needed_by=first
    )
    PurchaseRequestFactory(
        department=department, state="in_review", total_cost=Decimal("1500"), needed_by=first
    )
    page = sign_in(cio)
    page.goto(f"{live_server.url}/insights/")
    section = page.locator("#budgets-section")
    expect(section.get_by_role("heading", name=f"Budgets, {fiscal.label(year)}")).to_be_visible()
    expect(section.locator("canvas#chart-budgets")).to_be_visible()
    row = section.locator("#table-budgets tbody tr").first
    expect(row).to_contain_text(department.name)
    expect(row).to_contain_text("4,000")
    expect(row).to_contain_text("1,500")
    expect(row.locator("[data-available]")).to_contain_text("4,500")
    assert_accessible(page)
    page.set_viewport_size(PHONE)
    page.reload()
    expect(section.locator("#table-budgets")).to_be_attached()
    assert sideways_overflow(page) <= 0


def test_procurement_follows_renewals_from_the_navigation(live_server, sign_in, procurement):
    owner = UserFactory(username="carla", first_name="Carla", last_name="Owens")
    today = timezone.localdate()
    for n, days in enumerate((20, 100)):
        contract = Contract.objects.create(
            vendor=VendorFactory(name=f"Renewing vendor {n}"),
            title=f"Team licences {n}",
            starts_on=today - timedelta(days=300),
            ends_on=today + timedelta(days=days),
            notice_days=30,
            annual_value=Decimal("2400"),
            seats=10,
            owner=owner,
        )
        services.create_renewal(contract)
    page = sign_in(procurement)
    page.get_by_role("link", name="Renewals").click()
    expect(page.get_by_role("heading", name="Renewals")).to_be_visible()
    missed = page.locator("#renewals-table tr[data-missed]")
    expect(missed).to_have_count(1)
    expect(missed).to_contain_text("Team licences 0")
    expect(missed).to_contain_text("deadline passed without a decision")
    expect(page.locator("#renewals-table")).to_contain_text(
        "Draft, waiting for Carla Owens to submit it"
    )
    assert_accessible(page)
    page.set_viewport_size(PHONE)
    page.reload()
    assert sideways_overflow(page) <= 0
    # The drafts are their owner's until submitted: shown by number, linked to the vendor.
    expect(page.locator("#renewals-table a", has_text="PR-")).to_have_count(0)
    page.locator("#renewals-table a", has_text="Team licences 1").click()
    expect(page.get_by_role("heading", name="Renewing vendor 1")).to_be_visible()
