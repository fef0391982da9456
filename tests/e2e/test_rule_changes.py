"""Issue #32 in a real browser: an admin drafts raising the CIO threshold, runs the backtest and
sees its progress and result, and submits; the author cannot approve it; a second admin
approves and it is published. Axe clean, no sideways scrolling at 390 px."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from approvals import workflow
from approvals.models import ApprovalRule, DraftState, RuleDraft, RuleKind, Side
from tests.e2e.accessibility import PHONE, axe_violations, describe, sideways_overflow
from tests.factories import PurchaseRequestFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def assert_clean(page):
    violations = axe_violations(page)
    assert not violations, describe(violations)


def test_an_admin_drafts_backtests_and_submits_a_second_admin_publishes(
    live_server, sign_in, page, requester
):
    ApprovalRule.objects.filter(kind=RuleKind.VENDOR_REVIEW).update(active=False)
    ApprovalRule.objects.create(
        name="CIO sign-off", min_total=Decimal("25000"),
        reviewer_group=Group.objects.get(name="cio"), side=Side.IT, stage=2,
    )  # fmt: skip
    for total in ("30000", "10000"):
        request = PurchaseRequestFactory(
            requester=requester, total_cost=Decimal(total), line_items=[("Seat", "1", total)]
        )
        workflow.submit_request(request, by=requester)
    ada = UserFactory(username="ada", is_staff=True, is_superuser=True)
    bob = UserFactory(username="bob", is_staff=True, is_superuser=True)

    page.set_viewport_size(PHONE)
    sign_in(ada)
    page.goto(f"{live_server.url}/approvals/rules/versions/")
    expect(page.get_by_role("heading", name="Routing rules: versions and changes")).to_be_visible()
    assert_clean(page)
    assert sideways_overflow(page) <= 0
    page.get_by_label("Why change the rules").fill("Fewer CIO sign-offs")
    page.get_by_role("button", name="Draft a change").click()
    page.get_by_role("link", name="Edit CIO sign-off").click()
    page.get_by_label("Total cost from").fill("50000")
    assert_clean(page)
    page.get_by_role("button", name="Save in the draft").click()
    expect(page.locator("#changes")).to_contain_text(
        "CIO sign-off: total cost from 25,000.00 EUR → from 50,000.00 EUR"
    )

    page.get_by_role("button", name="Run the backtest").click()
    expect(page.get_by_role("progressbar", name="Backtest progress")).to_be_visible()
    expect(page.locator("#backtest-summary")).to_contain_text("1 of 2 requests")
    expect(page.locator("#backtest-groups")).to_contain_text("CIO")
    assert_clean(page)
    assert sideways_overflow(page) <= 0
    page.get_by_role("button", name="Submit for approval").click()
    expect(page.locator("#draft-state")).to_have_text("Waiting for a second admin")
    expect(page.locator("#approval-unavailable")).to_contain_text("second admin")
    expect(page.get_by_role("button", name="Approve and publish")).to_have_count(0)

    page.get_by_role("button", name="Toggle navigation").click()
    page.get_by_role("button", name="Sign out").click()
    sign_in(bob)
    draft = RuleDraft.objects.get()
    page.goto(f"{live_server.url}/approvals/rules/drafts/{draft.pk}/")
    assert_clean(page)
    page.get_by_role("button", name="Approve and publish").click()
    expect(page.locator("#draft-state")).to_have_text("Published")
    assert RuleDraft.objects.get().state == DraftState.PUBLISHED
    assert ApprovalRule.objects.get(name="CIO sign-off").min_total == Decimal("50000")
