"""A requester files, saves, submits, comments on and withdraws requests in a real browser."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from intake.models import PurchaseRequest
from tests.factories import CategoryFactory, PurchaseRequestFactory, VendorFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

NUMBER = re.compile(r"PR-\d{4}-\d{5}")
# Tiny but real: the upload check looks at the content, not the name.
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def line_item(page: Page, row: int, column: str):
    return page.locator(f'[name="items-{row}-{column}"]')


def field_error(page: Page, field_id: str):
    """The message shown under a form field (templates/includes/field.html)."""
    return page.locator(f"#{field_id}_error")


def state_badge(scope):
    return scope.locator("[data-state]").first


def test_requester_fixes_a_mistake_saves_a_draft_and_submits_it(
    live_server, sign_in, requester, tmp_path
):
    category = CategoryFactory(name="E2E SaaS subscription", slug="e2e-saas-subscription")
    vendor = VendorFactory(name="Figma E2E")
    needed_by = (timezone.localdate() + timedelta(days=45)).isoformat()
    page = sign_in(requester)

    page.get_by_role("link", name="New request").first.click()
    expect(page.get_by_role("heading", name="New purchase request")).to_be_visible()
    for legend in ("What", "Why", "Cost", "Vendor", "Data and security", "Attachments"):
        expect(page.locator("fieldset legend", has_text=re.compile(f"^{legend}$"))).to_be_visible()

    # What
    page.get_by_label("Title").fill("Design tool seats")
    page.get_by_label("Description").first.fill("Ten editor seats for the design team.")
    page.get_by_label("Category").select_option(label=category.name)
    page.get_by_label("Department").select_option(label=str(requester.department))
    page.get_by_label("Needed by").fill(needed_by)
    # Why
    page.get_by_label("Business justification").fill("The team outgrew the free plan.")
    page.get_by_label("Expected benefit").fill("Faster design reviews.")
    # Cost: billed yearly for two years, so the total is two periods of the line items
    page.get_by_label("Currency").select_option("EUR")
    page.get_by_label("Billing").select_option(label="Annual")
    page.get_by_label("Term (months)").fill("24")
    line_item(page, 0, "description").fill("Editor seat")
    line_item(page, 0, "quantity").fill("-1")  # the mistake
    line_item(page, 0, "unit_price").fill("120.00")
    page.get_by_role("button", name="Add a line").click()  # the form starts with one
    line_item(page, 1, "description").fill("Onboarding")
    line_item(page, 1, "quantity").fill("1")
    line_item(page, 1, "unit_price").fill("300.00")
    # Vendor
    page.get_by_label("Existing vendor").select_option(label=str(vendor))
    # Data and security
    page.get_by_label("Data classification").select_option(label="Internal")
    page.get_by_label("Handles personal data").select_option(label="No")
    page.get_by_label("Integrates with company systems").check()
    page.get_by_label("Integration details").fill("Okta single sign-on")

    page.get_by_role("button", name="Save draft").click()

    expect(page.get_by_role("alert").filter(has_text="Nothing was saved yet")).to_be_visible()
    first_row = page.locator("#line-items tbody tr").nth(0)
    expect(first_row.locator(".invalid-feedback")).to_have_text(
        "Ensure this value is greater than or equal to 0.01."
    )
    expect(page.locator(".invalid-feedback")).to_have_count(1)  # only the mistake is marked
    # Nothing the requester typed was lost.
    expect(page.get_by_label("Title")).to_have_value("Design tool seats")
    expect(page.get_by_label("Description").first).to_have_value(
        "Ten editor seats for the design team."
    )
    expect(page.get_by_label("Category")).to_have_value(str(category.pk))
    expect(page.get_by_label("Department")).to_have_value(str(requester.department.pk))
    expect(page.get_by_label("Needed by")).to_have_value(needed_by)
    expect(page.get_by_label("Business justification")).to_have_value(
        "The team outgrew the free plan."
    )
    expect(page.get_by_label("Expected benefit")).to_have_value("Faster design reviews.")
    expect(page.get_by_label("Currency")).to_have_value("EUR")
    expect(page.get_by_label("Billing")).to_have_value("annual")
    expect(page.get_by_label("Term (months)")).to_have_value("24")
    expect(line_item(page, 0, "description")).to_have_value("Editor seat")
    expect(line_item(page, 0, "quantity")).to_have_value("-1")
    expect(line_item(page, 0, "unit_price")).to_have_value("120.00")
    expect(line_item(page, 1, "description")).to_have_value("Onboarding")
    expect(line_item(page, 1, "quantity")).to_have_value("1")
    expect(line_item(page, 1, "unit_price")).to_have_value("300.00")
    expect(page.get_by_label("Existing vendor")).to_have_value(str(vendor.pk))
    expect(page.get_by_label("Data classification")).to_have_value("internal")
    expect(page.get_by_label("Handles personal data")).to_have_value("false")
    expect(page.get_by_label("Integrates with company systems")).to_be_checked()
    expect(page.get_by_label("Integration details")).to_have_value("Okta single sign-on")
    assert not PurchaseRequest.objects.exists()

    line_item(page, 0, "quantity").fill("10")
    quote = tmp_path / "quote.pdf"
    quote.write_bytes(PDF)
    page.get_by_label("Attachments").set_input_files(quote)
    page.get_by_role("button", name="Save draft").click()

    expect(page).to_have_url(re.compile(r"/requests/\d+/$"))
    saved = page.get_by_role("alert").filter(has_text="saved as a draft")
    expect(saved).to_be_visible()
    number = NUMBER.search(saved.inner_text()).group()
    expect(page.get_by_role("heading", name="Design tool seats")).to_be_visible()
    expect(state_badge(page.locator("main"))).to_have_text("Draft")
    # (10 × 120.00 + 1 × 300.00) a year, for two years
    expect(page.locator("#total-cost")).to_have_text("3,000.00 EUR")
    expect(page.get_by_role("link", name="quote.pdf")).to_be_visible()

    page.locator("#actions").get_by_role("button", name="Submit for review").click()

    expect(
        page.get_by_role("alert").filter(has_text=f"{number}: submitted for review")
    ).to_be_visible()
    expect(state_badge(page.locator("main"))).to_have_text("In review")
    expect(page.locator('#timeline li[data-kind="submit"]')).to_have_count(1)

    page.get_by_role("link", name="My requests").click()
    row = page.locator(f'#my-requests tr[data-number="{number}"]')
    expect(row).to_contain_text("Design tool seats")
    expect(row).to_contain_text("3,000.00 EUR")
    expect(state_badge(row)).to_have_text("In review")
    expect(state_badge(row)).to_have_attribute("data-state", "in_review")


def test_submitting_an_incomplete_draft_marks_what_is_missing_and_keeps_the_draft(
    live_server, sign_in, requester
):
    page = sign_in(requester)
    page.goto(f"{live_server.url}/requests/new/")
    page.get_by_label("Title").fill("Only a title")

    page.get_by_role("button", name="Submit for review").click()

    expect(
        page.get_by_role("alert").filter(has_text="is saved as a draft but not submitted yet")
    ).to_be_visible()
    expect(field_error(page, "id_description")).to_have_text("Give a description.")
    expect(field_error(page, "id_business_justification")).to_have_text(
        "Give the business justification."
    )
    expect(field_error(page, "id_category")).to_have_text("Give a category.")
    expect(field_error(page, "id_needed_by")).to_have_text("Give the date it is needed by.")
    expect(field_error(page, "id_data_classification")).to_have_text(
        "Give the data classification."
    )
    expect(field_error(page, "id_handles_personal_data")).to_have_text(
        "Say whether it handles personal data."
    )
    expect(field_error(page, "id_vendor")).to_have_text("Choose a vendor or propose a new one.")
    expect(page.locator("#line-items-error")).to_have_text("Add at least one line item.")
    expect(field_error(page, "id_title")).to_have_count(0)
    expect(page.get_by_label("Title")).to_have_value("Only a title")

    page.get_by_role("link", name="My requests").click()
    row = page.locator("#my-requests tbody tr", has_text="Only a title")
    expect(row).to_have_count(1)
    expect(state_badge(row)).to_have_text("Draft")


def test_comment_shows_in_comments_and_timeline_and_withdrawing_ends_the_request(
    live_server, sign_in, requester
):
    draft = PurchaseRequestFactory(requester=requester, title="Spare laptops")
    page = sign_in(requester)
    page.goto(f"{live_server.url}/requests/{draft.pk}/")
    expect(state_badge(page.locator("main"))).to_have_text("Draft")

    page.get_by_label("Add a comment").fill("Quote from the reseller attached next week.")
    page.get_by_role("button", name="Comment", exact=True).click()

    comments = page.locator("#comments")
    expect(comments).to_contain_text("Quote from the reseller attached next week.")
    expect(comments).not_to_contain_text("No comments yet.")
    commented = page.locator('#timeline li[data-kind="commented"]')
    expect(commented).to_have_count(1)
    expect(commented).to_contain_text("Quote from the reseller attached next week.")

    dialogs = []

    def accept(dialog):
        dialogs.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    page.get_by_role("button", name="Withdraw").click()

    expect(state_badge(page.locator("main"))).to_have_text("Withdrawn")
    assert dialogs == [f"Withdraw {draft.number}? This cannot be undone."]
    expect(page.locator('#timeline li[data-kind="withdraw"]')).to_have_count(1)
    actions = page.locator("#actions")
    expect(actions.get_by_role("button", name="Withdraw")).to_have_count(0)
    expect(actions.get_by_role("link", name="Edit")).to_have_count(0)


def test_signing_out_returns_to_sign_in_and_pages_then_need_it_again(
    live_server, sign_in, requester
):
    page = sign_in(requester)

    page.get_by_role("button", name="Sign out").click()

    expect(page).to_have_url(f"{live_server.url}/accounts/login/")
    expect(page.get_by_role("heading", name="Sign in to Tandem")).to_be_visible()
    page.goto(f"{live_server.url}/requests/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/requests/")
    expect(page.get_by_label("Username")).to_be_visible()
    expect(page.locator("#my-requests")).to_have_count(0)


# A phone, not a narrow desktop window: only a mobile browser honours the viewport meta tag.
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.mark.browser_context_args(**PHONE)
def test_my_requests_and_the_form_work_on_a_phone(live_server, sign_in, requester):
    PurchaseRequestFactory(requester=requester, title="Headsets for support")
    page = sign_in(requester)

    def fits_the_screen():
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page is {width}px wide on a 390px screen"

    toggler = page.get_by_role("button", name="Toggle navigation")
    expect(toggler).to_be_visible()
    nav = page.locator("#main-nav")
    expect(nav.get_by_role("link", name="My requests")).to_be_hidden()  # folded away
    expect(page.locator("#my-requests")).to_contain_text("Headsets for support")
    fits_the_screen()

    toggler.tap()
    nav.get_by_role("link", name="New request").tap()
    expect(page.get_by_role("heading", name="New purchase request")).to_be_visible()
    fits_the_screen()
    page.get_by_label("Title").fill("Phone-filed request")
    save = page.get_by_role("button", name="Save draft")
    save.scroll_into_view_if_needed()
    expect(save).to_be_in_viewport()
    save.tap()

    expect(page.get_by_role("heading", name="Phone-filed request")).to_be_visible()
    expect(state_badge(page.locator("main"))).to_have_text("Draft")
