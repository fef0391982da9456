"""Importing vendors and contracts in a real browser (issue #33), on a phone-sized window:
procurement uploads a CSV with one bad row, reads the per-row check, fixes the row, checks
again and imports; the vendors list shows them. Every page passes axe."""

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.accessibility import PHONE, axe_violations, describe, sideways_overflow
from tests.factories import UserFactory
from vendors.models import Contract

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADER = "vendor,website,contract,owner,starts_on,ends_on,notice_days,seats,annual_value"
FIGMA = "Figma,https://figma.com,Enterprise,olga,2025-01-01,2025-12-31,60,40,18000"


def check(page: Page, tmp_path, *lines):
    path = tmp_path / "vendors.csv"
    path.write_text("\n".join([HEADER, *lines]))
    page.get_by_label("CSV or XLSX file").set_input_files(str(path))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", name="What this file will do")).to_be_visible()


def assert_fits_and_is_accessible(page: Page):
    assert sideways_overflow(page) <= 0
    violations = axe_violations(page)
    assert not violations, describe(violations)


def test_procurement_fixes_a_refused_row_and_imports_the_file(
    page: Page, sign_in, live_server, tmp_path
):
    olga = UserFactory(username="olga", roles=["procurement"])
    page.set_viewport_size(PHONE)
    sign_in(olga)
    page.goto(f"{live_server.url}/vendors/")
    page.get_by_role("link", name="Import vendors and contracts").click()
    expect(page.get_by_role("heading", name="Import vendors and contracts")).to_be_visible()
    assert_fits_and_is_accessible(page)

    bad = "Miro,https://miro.com,Business,ghost,2025-01-01,2025-12-31,30,,9000"
    check(page, tmp_path, FIGMA, bad)
    expect(page.locator("#import-refused")).to_contain_text("1 row is refused")
    rows = page.locator("#import-rows tbody tr")
    expect(rows.nth(0)).to_contain_text("New vendor Figma; New contract “Enterprise”")
    expect(rows.nth(1)).to_contain_text("Refused")
    expect(rows.nth(1)).to_contain_text("no person “ghost”")
    expect(page.get_by_role("button", name="Import", exact=True)).to_have_count(0)
    assert_fits_and_is_accessible(page)

    fixed = bad.replace("ghost", "olga")
    check(page, tmp_path, FIGMA, fixed)
    expect(page.locator("#import-summary")).to_have_text(
        "Will import 2 new and 0 changed vendors, 2 new and 0 changed contracts."
    )
    assert_fits_and_is_accessible(page)
    assert not Contract.objects.exists()
    page.get_by_role("button", name="Import", exact=True).click()

    expect(page.get_by_role("heading", name="Vendors", level=1)).to_be_visible()
    expect(
        page.get_by_text("Imported 2 new and 0 changed vendors, 2 new and 0 changed")
    ).to_be_visible()
    expect(page.get_by_role("link", name="Miro")).to_be_visible()
    assert set(Contract.objects.values_list("title", flat=True)) == {"Enterprise", "Business"}
