"""Joint CIO–CPO sign-off in a real browser: a requester files a 30,000 EUR SaaS subscription
from a vendor not approved yet that handles personal data; IT asks for changes, the requester
edits and resubmits, IT and procurement approve stage 1, the CIO and the CPO approve stage 2,
and the timeline names who decided what."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts import roles
from approvals.models import ApprovalRule, RuleKind, Side
from tests.factories import CategoryFactory, UserFactory, VendorFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

NUMBER = re.compile(r"PR-\d{4}-\d{5}")


def leadership_rules():
    """As tests/approvals/conftest.py `leadership_rules`: stage 1 IT security review of personal
    data and procurement due diligence of vendors not approved yet; stage 2 CIO and CPO from
    25,000. The joint vendor review, which would hold these steps until the vendor is
    approved (tests/e2e/test_vendor_review.py), is switched off here, as an admin may."""
    group = lambda name: Group.objects.get(name=name)  # noqa: E731
    ApprovalRule.objects.filter(kind=RuleKind.VENDOR_REVIEW).update(active=False)
    ApprovalRule.objects.create(
        name="Security review of personal data",
        personal_data=True,
        reviewer_group=group(roles.IT_REVIEWERS),
        side=Side.IT,
        stage=1,
    )
    ApprovalRule.objects.create(
        name="Procurement checks vendors not approved yet",
        vendor_statuses=["new", "prospective", "under_review"],
        reviewer_group=group(roles.PROCUREMENT),
        side=Side.PROCUREMENT,
        stage=1,
    )
    ApprovalRule.objects.create(
        name="CIO above 25k",
        min_total=Decimal("25000"),
        reviewer_group=group(roles.CIO),
        side=Side.IT,
        stage=2,
    )
    ApprovalRule.objects.create(
        name="CPO above 25k",
        min_total=Decimal("25000"),
        reviewer_group=group(roles.CPO),
        side=Side.PROCUREMENT,
        stage=2,
    )


def state_badge(page: Page):
    return page.locator("main [data-state]").first


def step_block(page: Page, side: str, stage: int):
    return page.locator(f'#steps div[data-step][data-side="{side}"][data-stage="{stage}"]')


def sign_out(page: Page, live_server):
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")


def open_from_waiting_for_me(page: Page, number: str, step_text: str):
    """Opens "Waiting for me", checks the request waits there for this step and opens it."""
    page.get_by_role("link", name="Waiting for me").click()
    expect(page.get_by_role("heading", name="Waiting for me")).to_be_visible()
    row = page.locator(f'#waiting-for-me tr[data-number="{number}"]')
    expect(row).to_have_count(1)
    expect(row).to_contain_text(step_text)
    row.get_by_role("link", name=number).click()
    expect(page.get_by_text(number, exact=True)).to_be_visible()


def decide(page: Page, side: str, stage: int, button: str, comment: str, number: str):
    """Decides the step in the decision card at the top of the page (it is the card's step)."""
    block = step_block(page, side, stage)
    expect(block).to_have_count(1)
    expect(block).to_have_attribute("data-step-state", "open")
    card = page.locator("#decide")
    expect(card).to_have_attribute("data-decides", block.get_attribute("data-step"))
    card.get_by_label("Comment").fill(comment)
    card.get_by_role("button", name=button, exact=True).click()
    expect(page.get_by_role("alert").filter(has_text=f"{number}:")).to_be_visible()


def test_it_asks_changes_then_it_procurement_cio_and_cpo_sign_off_jointly(live_server, sign_in):
    leadership_rules()
    category = CategoryFactory()  # SaaS subscription
    vendor = VendorFactory(name="Northwind Analytics", status="prospective")
    requester = UserFactory(username="rita", first_name="Rita", last_name="Requester")
    ivan = UserFactory(
        username="ivan", first_name="Ivan", last_name="Itreview", roles=[roles.IT_REVIEWERS]
    )
    paul = UserFactory(
        username="paul", first_name="Paul", last_name="Procure", roles=[roles.PROCUREMENT]
    )
    cora = UserFactory(username="cora", first_name="Cora", last_name="Cio", roles=[roles.CIO])
    cleo = UserFactory(username="cleo", first_name="Cleo", last_name="Cpo", roles=[roles.CPO])
    needed_by = (timezone.localdate() + timedelta(days=60)).isoformat()

    # The requester files the request through the New request form.
    page = sign_in(requester)
    page.get_by_role("link", name="New request").first.click()
    expect(page.get_by_role("heading", name="New purchase request")).to_be_visible()
    page.get_by_label("Title").fill("Customer analytics platform")
    page.get_by_label("Description").first.fill("Analytics for the customer success team.")
    page.get_by_label("Category").select_option(label=category.name)
    page.get_by_label("Department").select_option(label=str(requester.department))
    page.get_by_label("Needed by").fill(needed_by)
    page.get_by_label("Business justification").fill("Churn is invisible without it.")
    page.get_by_label("Currency").select_option("EUR")
    page.get_by_label("Billing").select_option(label="Monthly")
    page.get_by_label("Term (months)").fill("12")
    page.locator('[name="items-0-description"]').fill("Platform subscription")
    page.locator('[name="items-0-quantity"]').fill("1")
    page.locator('[name="items-0-unit_price"]').fill("2500.00")
    page.get_by_label("Existing vendor").select_option(label=vendor.name)
    page.get_by_label("Data classification").select_option(label="Confidential")
    page.get_by_label("Handles personal data").select_option(label="Yes")
    page.get_by_role("button", name="Submit for review").click()

    submitted = page.get_by_role("alert").filter(has_text="submitted for review")
    expect(submitted).to_be_visible()
    number = NUMBER.search(submitted.inner_text()).group()
    expect(page).to_have_url(re.compile(r"/requests/\d+/$"))
    request_url = page.url
    expect(state_badge(page)).to_have_text("In review")
    expect(page.locator("#total-cost")).to_have_text("30,000.00 EUR")
    # Stage 1 is open on both sides; stage 2 (CIO and CPO) waits for it.
    expect(page.locator("#steps div[data-step]")).to_have_count(4)
    expect(step_block(page, "it", 1)).to_have_attribute("data-step-state", "open")
    expect(step_block(page, "procurement", 1)).to_have_attribute("data-step-state", "open")
    expect(step_block(page, "it", 2)).to_have_attribute("data-step-state", "waiting")
    expect(step_block(page, "procurement", 2)).to_have_attribute("data-step-state", "waiting")
    # Routed by the leadership rules, not the defaults: the form's answers reached routing.
    expect(step_block(page, "it", 1)).to_contain_text(
        "Security review of personal data: handles personal data"
    )
    expect(step_block(page, "procurement", 1)).to_contain_text(
        "Procurement checks vendors not approved yet: vendor status is prospective"
    )
    expect(step_block(page, "it", 2)).to_contain_text("CIO above 25k")
    expect(step_block(page, "procurement", 2)).to_contain_text("CPO above 25k")
    # The requester never gets decision buttons on their own request.
    expect(page.locator("#steps").get_by_role("button")).to_have_count(0)
    sign_out(page, live_server)

    # Both stage-1 reviewers find it under Waiting for me.
    sign_in(paul)
    page.get_by_role("link", name="Waiting for me").click()
    expect(page.locator(f'#waiting-for-me tr[data-number="{number}"]')).to_contain_text(
        "Customer analytics platform"
    )
    sign_out(page, live_server)

    # The IT reviewer asks for changes.
    sign_in(ivan)
    open_from_waiting_for_me(page, number, "Stage 1 · IT")
    decide(page, "it", 1, "Request changes", "Which EU region stores the data?", number)
    expect(state_badge(page)).to_have_text("Changes requested")
    sign_out(page, live_server)

    # The requester edits the description and resubmits from the form.
    sign_in(requester)
    page.goto(request_url)
    expect(state_badge(page)).to_have_text("Changes requested")
    page.locator("#actions").get_by_role("link", name="Edit").click()
    expect(page.get_by_role("heading", name=f"Edit {number}")).to_be_visible()
    page.get_by_label("Description").first.fill(
        "Analytics for the customer success team, hosted in Frankfurt (EU)."
    )
    page.get_by_role("button", name="Save and resubmit").click()
    expect(
        page.get_by_role("alert").filter(has_text=f"{number} submitted for review")
    ).to_be_visible()
    expect(state_badge(page)).to_have_text("In review")
    expect(page.get_by_text("hosted in Frankfurt (EU)")).to_be_visible()
    expect(page.locator("#steps-heading")).to_contain_text("round 2")
    expect(page.locator("#steps div[data-step]")).to_have_count(4)
    sign_out(page, live_server)

    # Stage 1, round 2: IT and procurement approve.
    sign_in(ivan)
    open_from_waiting_for_me(page, number, "Stage 1 · IT")
    # The decision card says what the requester changed since round 1.
    expect(page.locator('#decide [data-fact="changes"]')).to_contain_text(
        "Also edited: description"
    )
    decide(page, "it", 1, "Approve", "EU hosting confirmed.", number)
    expect(step_block(page, "it", 1)).to_have_attribute("data-step-state", "approved")
    expect(state_badge(page)).to_have_text("In review")
    sign_out(page, live_server)

    sign_in(paul)
    open_from_waiting_for_me(page, number, "Stage 1 · Procurement")
    decide(page, "procurement", 1, "Approve", "Due diligence done.", number)
    expect(step_block(page, "procurement", 1)).to_have_attribute("data-step-state", "approved")
    expect(step_block(page, "it", 2)).to_have_attribute("data-step-state", "open")
    expect(step_block(page, "procurement", 2)).to_have_attribute("data-step-state", "open")
    sign_out(page, live_server)

    # Stage 2: the CIO and the CPO sign off.
    sign_in(cora)
    open_from_waiting_for_me(page, number, "Stage 2 · IT")
    decide(page, "it", 2, "Approve", "Fits the data platform roadmap.", number)
    expect(state_badge(page)).to_have_text("In review")
    sign_out(page, live_server)

    sign_in(cleo)
    open_from_waiting_for_me(page, number, "Stage 2 · Procurement")
    decide(page, "procurement", 2, "Approve", "Within budget.", number)
    expect(state_badge(page)).to_have_text("Approved")

    # The timeline names every decision and who made it.
    timeline = page.locator("#timeline")
    changes = timeline.locator('li[data-kind="step_request_changes"]')
    expect(changes).to_have_count(1)
    expect(changes).to_contain_text(str(ivan))
    expect(changes).to_contain_text("Which EU region stores the data?")
    approvals = timeline.locator('li[data-kind="step_approve"]')
    expect(approvals).to_have_count(4)
    for actor, comment in [
        (ivan, "EU hosting confirmed."),
        (paul, "Due diligence done."),
        (cora, "Fits the data platform roadmap."),
        (cleo, "Within budget."),
    ]:
        entry = approvals.filter(has_text=comment)
        expect(entry).to_have_count(1)
        expect(entry).to_contain_text(str(actor))
    expect(timeline.locator('li[data-kind="resubmit"]')).to_have_count(1)
    expect(timeline.locator('li[data-kind="approve"]')).to_have_count(1)
