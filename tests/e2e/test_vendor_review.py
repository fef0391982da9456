"""Joint vendor review in a real browser (SPEC §5): a requester proposes a new vendor on a
request; the request waits while IT answers the security questionnaire (tier high), uploads a
SOC 2 Type II certificate that expires soon and approves the IT security step; a different
person in procurement approves the due diligence; the vendor is approved and the request's own
steps open."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts import roles
from tests.factories import CategoryFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

NUMBER = re.compile(r"PR-\d{4}-\d{5}")
# Tiny but real: the upload check looks at the content, not the name.
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
VENDOR = "Acme Analytics"
# The default questionnaire (weights 3, 3, 2, 1, 1) and the answers that score
# (100*3 + 70*3 + 0 + 0 + 0) / 10 = 51: tier high (bands low 0, medium 25, high 50, critical 75).
ANSWERS = {
    "Does the vendor hold a current SOC 2 Type II or ISO 27001 certification?": "No",
    "Which company data will the vendor store or process?": "Confidential",
    "Is data encrypted at rest and in transit?": "Both",
    "Does the vendor support single sign-on (SAML or OIDC)?": "Yes",
    "Where is the data hosted?": "EU / EEA",
}


def sign_out(page: Page, live_server):
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")


def step_block(page: Page, side: str):
    return page.locator(f'#steps div[data-step][data-side="{side}"]')


def open_vendor_review_from_waiting_for_me(page: Page, side_label: str):
    page.get_by_role("link", name="Waiting for me").click()
    expect(page.get_by_role("heading", name="Waiting for me")).to_be_visible()
    row = page.locator(f'#waiting-for-me tr[data-vendor="{VENDOR}"]')
    expect(row).to_have_count(1)
    expect(row).to_contain_text(f"Stage 1 · {side_label}")
    row.get_by_role("link", name=f"Vendor review: {VENDOR}").click()
    expect(page.get_by_role("heading", name=VENDOR, level=1)).to_be_visible()


def approve(page: Page, side: str, comment: str):
    block = step_block(page, side)
    expect(block).to_have_attribute("data-step-state", "open")
    block.get_by_label("Comment").fill(comment)
    block.get_by_role("button", name="Approve", exact=True).click()
    expect(step_block(page, side)).to_have_attribute("data-step-state", "approved")


def test_requester_proposes_a_vendor_that_it_and_procurement_review_jointly(live_server, sign_in):
    category = CategoryFactory()
    requester = UserFactory(username="rita", first_name="Rita", last_name="Requester")
    ivan = UserFactory(
        username="ivan", first_name="Ivan", last_name="Itreview", roles=[roles.IT_REVIEWERS]
    )
    paul = UserFactory(
        username="paul", first_name="Paul", last_name="Procure", roles=[roles.PROCUREMENT]
    )
    today = timezone.localdate()

    # The requester files a request proposing a vendor Tandem does not know yet.
    page = sign_in(requester)
    page.goto(f"{live_server.url}/requests/new/")
    expect(page.get_by_role("heading", name="New purchase request")).to_be_visible()
    page.get_by_label("Title").fill("Customer analytics")
    page.get_by_label("Description").first.fill("Dashboards for the customer success team.")
    page.get_by_label("Category").select_option(label=category.name)
    page.get_by_label("Needed by").fill((today + timedelta(days=45)).isoformat())
    page.get_by_label("Business justification").fill("Churn is invisible without it.")
    page.get_by_label("Billing").select_option(label="One-off")
    page.locator('[name="items-0-description"]').fill("Set-up and first year")
    page.locator('[name="items-0-quantity"]').fill("1")
    page.locator('[name="items-0-unit_price"]').fill("4800.00")
    page.get_by_label("Or propose a new vendor: name").fill(VENDOR)
    page.get_by_label("New vendor's website").fill("https://acme-analytics.example")
    page.get_by_label("Data classification").select_option(label="Confidential")
    page.get_by_label("Handles personal data").select_option(label="Yes")
    page.get_by_role("button", name="Submit for review").click()

    submitted = page.get_by_role("alert").filter(has_text="submitted for review")
    expect(submitted).to_be_visible()
    number = NUMBER.search(submitted.inner_text()).group()
    request_url = page.url
    expect(page.locator("main [data-state]").first).to_have_text("In review")
    # Its own steps wait for the vendor's review.
    expect(page.locator("#steps div[data-step]")).to_have_count(2)
    expect(page.locator('#steps div[data-step][data-step-state="waiting"]')).to_have_count(2)
    sign_out(page, live_server)

    # IT finds the vendor review under Waiting for me and assesses the vendor.
    sign_in(ivan)
    open_vendor_review_from_waiting_for_me(page, "IT")
    expect(page.locator("#vendor-status [data-status]")).to_have_text("Under review")
    expect(page.locator("#request-table").get_by_role("link", name=number)).to_be_visible()
    expect(step_block(page, "procurement")).to_have_attribute("data-step-state", "open")

    questionnaire = page.locator("#questionnaire")
    for question, answer in ANSWERS.items():
        questionnaire.get_by_role("group", name=question).get_by_label(answer, exact=True).check()
    questionnaire.get_by_role("button", name="Save answers").click()
    expect(page.get_by_role("alert").filter(has_text="Questionnaire saved")).to_contain_text(
        "risk score 51.0, tier High"
    )
    expect(page.locator("#risk-tier")).to_have_text("High")
    expect(page.locator("#risk-score")).to_have_text("51.0")

    page.locator("#add-certificate summary").click()
    certificate_form = page.locator("#add-certificate form")
    certificate_form.get_by_label("Type").select_option(label="SOC 2 Type II")
    certificate_form.get_by_label("Issuer").fill("Example Audit LLP")
    certificate_form.get_by_label("Issued on").fill((today - timedelta(days=345)).isoformat())
    certificate_form.get_by_label("Expires on").fill((today + timedelta(days=20)).isoformat())
    certificate_form.get_by_label("Document").set_input_files(
        files=[{"name": "acme-soc2.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    certificate_form.get_by_role("button", name="Add certificate").click()
    expect(
        page.get_by_role("alert").filter(has_text="SOC 2 Type II certificate added.")
    ).to_be_visible()
    certificate = page.locator("#certificate-table tbody tr").filter(has_text="SOC 2 Type II")
    expect(certificate).to_have_count(1)
    expect(certificate.locator('[data-flag="expiring"]')).to_have_text("expiring")
    expect(certificate.get_by_role("link", name="acme-soc2.pdf")).to_be_visible()

    approve(page, "it", "Questionnaire done, SOC 2 Type II on file.")
    expect(page.locator("#vendor-status [data-status]")).to_have_text("Under review")
    sign_out(page, live_server)

    # A different person, in procurement, does the due diligence.
    sign_in(paul)
    open_vendor_review_from_waiting_for_me(page, "Procurement")
    expect(page.locator("#risk-tier")).to_have_text("High")
    approve(page, "procurement", "Due diligence done.")
    expect(page.locator("#vendor-status [data-status]")).to_have_text("Approved")
    timeline = page.locator("#timeline")
    expect(timeline.locator('li[data-kind="step_approve"]')).to_have_count(2)
    expect(timeline.locator('li[data-kind="approve"]')).to_have_count(1)

    # The request's own steps are open now.
    page.goto(request_url)
    expect(page.locator("main [data-state]").first).to_have_text("In review")
    expect(page.locator("#steps div[data-step]")).to_have_count(2)
    for side in ("it", "procurement"):
        expect(step_block(page, side)).to_have_attribute("data-step-state", "open")
        expect(step_block(page, side)).to_contain_text("Open")
