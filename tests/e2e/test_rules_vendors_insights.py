"""Issue 14, items 6–8 in a real browser: an admin writes a routing rule with checkboxes and
follows its link to the rule preview; procurement starts the review of a vendor stuck "under
review" with no steps, and sees the conditions of a vendor approved with them; the CIO sees
passed notice deadlines flagged, minutes rather than "0.0 h", and empty states."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import expect

from accounts import roles
from approvals.models import ApprovalRule, ApprovalStep, Side, StepState
from intake.models import State
from tests.factories import CategoryFactory, PurchaseRequestFactory, UserFactory, VendorFactory
from vendors.models import Contract

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def test_an_admin_writes_a_rule_with_checkboxes_and_previews_it(live_server, sign_in, admin_user):
    CategoryFactory(name="E2E SaaS", slug="e2e-saas")
    page = sign_in(admin_user)
    page.goto(f"{live_server.url}/admin/approvals/approvalrule/add/")

    page.get_by_label("Name:").fill("Restricted personal data needs the CIO")
    page.get_by_label("E2E SaaS").check()
    page.get_by_label("Restricted").check()
    page.locator(".field-personal_data").get_by_label("Yes", exact=True).check()
    page.get_by_label("Under review").check()
    page.get_by_label("High", exact=True).check()
    page.get_by_label("Critical").check()
    page.get_by_label("Reviewer group:").select_option(label=roles.group_label(roles.CIO))
    page.get_by_label("Side:").select_option(label="IT")
    page.get_by_label("Stage:").fill("2")
    page.get_by_role("button", name="Save and continue editing").click()

    rule = ApprovalRule.objects.get(name="Restricted personal data needs the CIO")
    assert rule.data_classifications == ["restricted"]
    assert rule.personal_data is True
    assert rule.vendor_statuses == ["under_review"]
    assert rule.vendor_risk_tiers == ["high", "critical"]
    expect(page.get_by_label("Restricted")).to_be_checked()

    page.get_by_role("link", name="Preview a request this rule matches").click()

    expect(page.get_by_role("heading", name="Rule preview")).to_be_visible()
    expect(page.locator("#preview-rule")).to_contain_text(rule.name)
    result = page.locator("#preview-result")
    cio_row = result.locator('tr[data-side="it"]', has_text=rule.name)
    expect(cio_row).to_contain_text("Stage 2")
    expect(cio_row).to_contain_text("IT")
    for words in (
        "category is E2E SaaS",
        "data classification is restricted",
        "handles personal data",
        "vendor status is under review",
        "vendor risk tier is high",
    ):
        expect(cio_row).to_contain_text(words)
    expect(result).not_to_contain_text("under_review")
    page.get_by_role("link", name="Back to the rule").click()
    expect(page.get_by_label("Name:")).to_have_value(rule.name)


def test_procurement_starts_the_review_of_a_vendor_stuck_under_review(
    live_server, sign_in, procurement
):
    stuck = VendorFactory(name="Stuck Cloud", status="under_review")
    VendorFactory(
        name="Careful Co",
        status="approved_with_conditions",
        conditions="EU hosting only",
        risk_tier="medium",
        risk_score=Decimal("42.0"),
    )
    page = sign_in(procurement)
    page.goto(f"{live_server.url}/vendors/{stuck.pk}/")
    expect(page.locator("#steps")).to_contain_text("No review yet")

    page.get_by_role("button", name="Start joint review").click()

    expect(page.get_by_role("alert").filter(has_text="has started")).to_be_visible()
    expect(page.locator("#steps div[data-step]")).to_have_count(2)
    expect(page.locator('#steps [data-side="procurement"]')).to_have_attribute(
        "data-step-state", "open"
    )
    expect(page.get_by_role("button", name="Start joint review")).to_have_count(0)

    page.get_by_role("link", name="Vendors", exact=True).first.click()
    row = page.locator('tr[data-vendor="Careful Co"]')
    expect(row).to_contain_text("score 42.0")
    row.get_by_role("link", name="Careful Co").click()
    expect(page.locator("#vendor-conditions")).to_contain_text("EU hosting only")
    expect(page.locator("#vendor-status")).to_contain_text("score 42.0 of 100")


def test_the_cio_sees_passed_deadlines_fitting_units_and_empty_states(live_server, sign_in, cio):
    owner = UserFactory(username="owen")
    vendor = VendorFactory(name="Atlassian")
    today = timezone.localdate()
    Contract.objects.create(
        vendor=vendor,
        title="Jira Premium",
        starts_on=date(today.year - 1, 1, 1),
        ends_on=today + timedelta(days=30),
        notice_days=60,
        annual_value=Decimal("18500.00"),
        owner=owner,
    )
    # A step IT decided within six minutes; nothing approved yet, so no spend.
    request = PurchaseRequestFactory(state=State.IN_REVIEW)
    opened = timezone.now() - timedelta(hours=1)
    ApprovalStep.objects.create(
        request=request,
        side=Side.IT,
        group=Group.objects.get(name=roles.IT_REVIEWERS),
        state=StepState.APPROVED,
        rule_name="test",
        sla_hours=48,
        repeat_every_hours=24,
        escalate_after_hours=96,
        opened_at=opened,
        due_at=opened + timedelta(hours=48),
        decided_at=opened + timedelta(minutes=6),
    )
    page = sign_in(cio)
    page.goto(f"{live_server.url}/insights/")

    notice = page.locator("#renewals td[data-notice]")
    expect(notice).to_have_attribute("data-notice", "passed")
    expect(notice).to_contain_text("notice deadline passed")
    it_row = page.locator('#table-side-time tr[data-side="it"]')
    expect(it_row).to_contain_text("6 min")
    expect(it_row).not_to_contain_text("0.0 h")
    expect(page.locator('[data-empty="spend-category"]')).to_contain_text(
        "No approved spend in these 12 months"
    )
    expect(page.locator("canvas#chart-side-time")).to_be_visible()
    expect(page.locator("canvas#chart-spend-category")).to_have_count(0)
