"""The request form as a requester uses it (issue 14, item 3): line items added and removed in
place with a live total and total cost of ownership, a vendor picker that searches and shows
status and risk tier, "approvers will be…" worked out as the form is filled in, an error
summary after a failed submit on the draft's edit page, and the duplicate warning beside the
fields it concerns. In a real Chromium, under the Content-Security-Policy."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts import roles
from approvals.models import ApprovalRule
from intake import forms as intake_forms
from intake.models import PurchaseRequest
from tests.factories import CategoryFactory, PurchaseRequestFactory, VendorFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def line(page: Page, row: int, column: str):
    return page.locator(f'[name="items-{row}-{column}"]')


def watch_csp(page: Page) -> list[str]:
    """Console messages that report a blocked script or style: none may appear."""
    blocked = []
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return blocked


def test_line_items_are_added_and_removed_in_place_with_live_totals(
    live_server, sign_in, requester
):
    page = sign_in(requester)
    blocked = watch_csp(page)
    page.goto(f"{live_server.url}/requests/new/")
    page.get_by_label("Title").fill("Design tool seats")
    page.get_by_label("Billing").select_option(label="Annual")
    page.get_by_label("Term (months)").fill("24")

    line(page, 0, "description").fill("Editor seat")
    line(page, 0, "quantity").fill("10")
    line(page, 0, "unit_price").fill("1200.50")
    expect(page.locator("#line-items tbody tr").nth(0).locator("[data-line-amount]")).to_have_text(
        "12,005.00 EUR"
    )
    expect(page.locator("#period-total")).to_have_text("12,005.00 EUR")
    # Annual billing over 24 months: two payments.
    expect(page.locator("#tco-total")).to_have_text("24,010.00 EUR")
    expect(page.locator("#tco-note")).to_have_text("Billed 2 times over the term.")

    # One line was there; a second and a third are added without a round trip.
    page.get_by_role("button", name="Add a line").click()
    expect(line(page, 1, "description")).to_be_focused()
    page.get_by_role("button", name="Add a line").click()
    expect(page.locator('[name="items-TOTAL_FORMS"]')).to_have_value("3")
    line(page, 1, "description").fill("Onboarding")
    line(page, 1, "quantity").fill("1")
    line(page, 1, "unit_price").fill("300")
    line(page, 2, "description").fill("Wrong line")
    line(page, 2, "quantity").fill("5")
    line(page, 2, "unit_price").fill("99")
    expect(page.locator("#period-total")).to_have_text("12,800.00 EUR")

    page.get_by_role("button", name="Remove line 3 (Wrong line)").click()
    expect(page.locator("#period-total")).to_have_text("12,305.00 EUR")
    expect(page.locator("#tco-total")).to_have_text("24,610.00 EUR")
    # A recurring purchase without a term has no total yet, and says why.
    page.get_by_label("Term (months)").fill("")
    expect(page.locator("#tco-total")).to_have_text("—")
    expect(page.locator("#tco-note")).to_contain_text("Give the term in months")
    page.get_by_label("Term (months)").fill("30")  # three started years
    expect(page.locator("#tco-total")).to_have_text("36,915.00 EUR")
    # The term is required now that billing recurs: its star shows.
    expect(page.locator('label[for="id_term_months"] [data-required-when]')).to_be_visible()
    page.get_by_label("Billing").select_option(label="One-off")
    expect(page.locator('label[for="id_term_months"] [data-required-when]')).to_be_hidden()
    page.get_by_label("Billing").select_option(label="Annual")

    page.get_by_role("button", name="Save draft").click()

    expect(page).to_have_url(re.compile(r"/requests/\d+/$"))
    saved = PurchaseRequest.objects.get(title="Design tool seats")
    # The line removed in the browser was not saved, the one added was.
    assert [(i.description, i.quantity, i.unit_price) for i in saved.line_items.all()] == [
        ("Editor seat", Decimal("10.00"), Decimal("1200.50")),
        ("Onboarding", Decimal("1.00"), Decimal("300.00")),
    ]
    assert saved.total_cost == Decimal("36915.00")  # the server agrees with the page
    assert blocked == []


def test_the_vendor_picker_searches_and_shows_status_and_risk_tier(live_server, sign_in, requester):
    VendorFactory(name="Figma", status="approved", risk_tier="low")
    figment = VendorFactory(name="Figment Labs", status="prospective")
    VendorFactory(name="Figaro Rejected", status="rejected")
    page = sign_in(requester)
    blocked = watch_csp(page)
    page.goto(f"{live_server.url}/requests/new/")

    page.get_by_label("Search vendors").fill("fig")

    results = page.locator("#vendor-results [data-pick-vendor]")
    expect(results).to_have_count(2)  # a rejected vendor cannot be named
    expect(results.nth(0)).to_contain_text("Figma")
    expect(results.nth(0)).to_contain_text("Approved")
    expect(results.nth(0)).to_contain_text("Low")
    expect(results.nth(1)).to_contain_text("Figment Labs")
    expect(results.nth(1)).to_contain_text("Prospective")
    expect(results.nth(1)).to_contain_text("Not assessed")
    expect(results.nth(1)).to_contain_text("Not approved yet")

    results.nth(1).click()

    vendor = page.get_by_label("Existing vendor")
    expect(vendor).to_have_value(str(figment.pk))
    expect(vendor).to_be_focused()
    expect(page.locator("#vendor-facts")).to_have_text(
        "Status: Prospective · Risk tier: Not assessed · Not approved yet: its joint review "
        "comes before your request's."
    )
    expect(page.locator("#vendor-results [data-pick-vendor]")).to_have_count(0)
    # The approvers follow: a vendor not approved yet is reviewed first.
    expect(page.locator("#approvers-preview [data-vendor-review]")).to_be_visible()

    # From the keyboard: type, arrow down, Enter.
    page.get_by_label("Search vendors").fill("figma")
    expect(page.locator("#vendor-results [data-pick-vendor]")).to_have_count(1)
    page.get_by_label("Search vendors").press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator("#vendor-facts")).to_have_text("Status: Approved · Risk tier: Low")
    expect(page.locator("#approvers-preview [data-vendor-review]")).to_have_count(0)

    page.get_by_label("Search vendors").fill("nothing like it")
    expect(page.locator("#vendor-results")).to_contain_text(
        "No vendor called “nothing like it”. Propose it as a new vendor below."
    )
    assert blocked == []


def test_among_many_vendors_the_picked_one_joins_the_short_list_and_saves(
    live_server, sign_in, requester, monkeypatch
):
    """Past intake.forms.VENDOR_LIST_LIMIT "Existing vendor" lists only the chosen vendor: the
    one picked in the search joins it, with its status and tier, and is saved with the draft."""
    monkeypatch.setattr(intake_forms, "VENDOR_LIST_LIMIT", 2)
    VendorFactory(name="Asana")
    VendorFactory(name="Basecamp")
    miro = VendorFactory(name="Miro", status="approved", risk_tier="medium")
    page = sign_in(requester)
    blocked = watch_csp(page)
    page.goto(f"{live_server.url}/requests/new/")
    vendor = page.get_by_label("Existing vendor")
    expect(vendor.locator("option")).to_have_count(1)  # nothing chosen yet
    expect(page.get_by_text("3 vendors are too many to list here")).to_be_visible()

    page.get_by_label("Title").fill("Whiteboards for the studio")
    page.get_by_label("Search vendors").fill("mir")
    page.locator("#vendor-results [data-pick-vendor]").first.click()

    expect(vendor).to_have_value(str(miro.pk))
    expect(page.locator("#vendor-facts")).to_have_text("Status: Approved · Risk tier: Medium")
    page.get_by_role("button", name="Save draft").click()
    expect(
        page.get_by_role("heading", name=re.compile("Whiteboards for the studio"))
    ).to_be_visible()
    assert PurchaseRequest.objects.get(title="Whiteboards for the studio").vendor == miro
    assert blocked == []


def test_approvers_will_be_follows_the_answers(live_server, sign_in, requester):
    cio = Group.objects.get(name=roles.CIO)
    ApprovalRule.objects.create(
        name="CIO above 25k", reviewer_group=cio, side="it", stage=2, min_total="25000"
    )
    ApprovalRule.objects.create(
        name="Security review of personal data",
        reviewer_group=Group.objects.get(name=roles.IT_REVIEWERS),
        side="it",
        stage=1,
        personal_data=True,
    )
    page = sign_in(requester)
    page.goto(f"{live_server.url}/requests/new/")
    preview = page.locator("#approvers-preview")

    expect(preview.locator('[data-stage="1"] [data-side="it"]')).to_have_count(1)
    expect(preview.locator('[data-stage="1"] [data-side="procurement"]')).to_have_count(1)
    expect(preview.locator('[data-stage="2"]')).to_have_count(0)

    line(page, 0, "description").fill("Platform licence")
    line(page, 0, "quantity").fill("1")
    line(page, 0, "unit_price").fill("30000")
    line(page, 0, "unit_price").blur()

    expect(preview.locator('[data-stage="2"]')).to_contain_text("(CIO)")
    preview.locator('[data-stage="2"] summary').click()
    expect(preview.locator('[data-stage="2"]')).to_contain_text(
        "CIO above 25k: total cost 30,000.00 EUR ≥ 25,000.00 EUR"
    )

    page.get_by_label("Handles personal data").select_option(label="Yes")
    preview.locator('[data-stage="1"] summary').click()
    expect(preview.locator('[data-stage="1"]')).to_contain_text(
        "Security review of personal data: handles personal data"
    )
    assert not PurchaseRequest.objects.exists()  # previewing saves nothing


def test_a_failed_submit_lands_on_the_draft_with_a_focused_error_summary(
    live_server, sign_in, requester
):
    page = sign_in(requester)
    page.goto(f"{live_server.url}/requests/new/")
    page.get_by_label("Title").fill("Only a title")

    page.get_by_role("button", name="Submit for review").click()

    draft = PurchaseRequest.objects.get(title="Only a title")
    expect(page).to_have_url(f"{live_server.url}/requests/{draft.pk}/edit/?check=1")
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("heading")).to_have_text(
        f"8 things to fix before {draft.number} can be submitted"
    )
    links = summary.get_by_role("link")
    expect(links.first).to_have_text("Description: Give a description.")
    expect(summary.get_by_role("link", name="Add at least one line item.")).to_be_visible()

    summary.get_by_role("link", name="Category: Give a category.").click()
    expect(page.get_by_label("Category")).to_be_focused()
    expect(page.get_by_label("Category")).to_have_attribute("aria-invalid", "true")

    # A reload keeps the draft and its marks: the address is the draft's, not a new form.
    page.reload()
    expect(page.get_by_label("Title")).to_have_value("Only a title")
    expect(page.locator("#error-summary")).to_be_focused()

    # Fixing everything and submitting from here sends it to review.
    category = CategoryFactory(name="E2E Software", slug="e2e-software")
    vendor = VendorFactory(name="Approved Vendor", status="approved")
    page.reload()
    page.get_by_label("Description").first.fill("Seats")
    page.get_by_label("Category").select_option(label=category.name)
    page.get_by_label("Needed by").fill((timezone.localdate() + timedelta(days=30)).isoformat())
    page.get_by_label("Business justification").fill("Needed")
    page.get_by_label("Existing vendor").select_option(label=vendor.name)
    page.get_by_label("Data classification").select_option(label="Internal")
    page.get_by_label("Handles personal data").select_option(label="No")
    line(page, 0, "description").fill("Seat")
    line(page, 0, "quantity").fill("2")
    line(page, 0, "unit_price").fill("50")
    page.get_by_role("button", name="Submit for review").click()
    expect(page).to_have_url(f"{live_server.url}/requests/{draft.pk}/")
    expect(page.get_by_role("alert").filter(has_text="submitted for review")).to_be_visible()


def test_the_duplicate_warning_sits_beside_the_title_and_the_vendor(
    live_server, sign_in, requester, other_requester
):
    vendor = VendorFactory(name="Miro", status="approved")
    PurchaseRequestFactory(
        requester=other_requester, title="Whiteboard licences", state="in_review", vendor=None
    )
    PurchaseRequestFactory(
        requester=other_requester, title="Team retro tool", state="in_review", vendor=vendor
    )
    page = sign_in(requester)
    page.goto(f"{live_server.url}/requests/new/")

    page.get_by_label("Title").fill("Whiteboard licences for design")
    page.get_by_label("Title").blur()
    beside_title = page.locator('[data-duplicates="title"]')
    expect(beside_title).to_contain_text("Whiteboard licences")
    expect(beside_title).not_to_contain_text("Team retro tool")

    page.get_by_label("Existing vendor").select_option(label="Miro")
    beside_vendor = page.locator('[data-duplicates="vendor"]')
    expect(beside_vendor).to_contain_text("Team retro tool")
    expect(beside_vendor).not_to_contain_text("Whiteboard licences")
    # Each warning stands next to its field: the title's above the Why section, the vendor's
    # inside the Vendor section.
    assert page.evaluate(
        """() => {
            const title = document.querySelector('[data-duplicates="title"]');
            const vendor = document.querySelector('[data-duplicates="vendor"]');
            return title.closest('fieldset').querySelector('legend').textContent === 'What'
                && vendor.closest('fieldset').querySelector('legend').textContent === 'Vendor';
        }"""
    )
