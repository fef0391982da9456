"""WCAG 2.1 AA on every page people use, as each role (issue 14, item 9): axe-core runs in the
browser on each page, signed in as requester, IT reviewer, procurement, CIO, CPO, finance and
admin, and any serious or critical violation fails the test. Pages with their varied states:
lists with rows, forms with errors, a request open for decision, one sent back for changes,
an approved one to order, vendors, insights, notifications, out of office, the Django admin.

The pages keep their Content Security Policy: axe is evaluated through Playwright
(tests/e2e/accessibility.py), which the CSP does not govern; the CSP itself is tested in
tests/security/test_csp_in_browser.py."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import Page, expect

from accounts import roles
from approvals import workflow
from approvals.models import ApprovalRule, RuleKind, Side
from approvals.services import decide_step
from notifications.services import notify
from tests.e2e.accessibility import axe_violations, describe
from tests.factories import PurchaseRequestFactory, UserFactory, VendorFactory
from vendors.models import VendorStatus

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def organisation(requester, it_reviewer, procurement, cio, cpo, admin_user):
    """Requests in every state a page shows differently, and one of each role."""
    finance = UserFactory(username="fiona", roles=[roles.FINANCE])
    ApprovalRule.objects.filter(kind=RuleKind.VENDOR_REVIEW).update(active=False)
    ApprovalRule.objects.create(
        name="Finance from 100k",
        min_total=Decimal("100000"),
        reviewer_group=Group.objects.get(name=roles.FINANCE),
        side=Side.FINANCE,
        stage=1,
    )
    vendor = VendorFactory(name="Acme Analytics", status=VendorStatus.APPROVED)
    VendorFactory(name="Northwind Cloud", status=VendorStatus.UNDER_REVIEW)

    def submitted(**fields):
        purchase_request = PurchaseRequestFactory(requester=requester, vendor=vendor, **fields)
        return workflow.submit_request(purchase_request, by=requester)

    draft = PurchaseRequestFactory(requester=requester, title="Draft: monitors", vendor=vendor)
    in_review = submitted(
        title="Analytics platform",
        total_cost=Decimal("120000"),
        line_items=[("Seat", "400", "300")],
    )
    sent_back = submitted(title="Design tool seats")
    decide_step(
        sent_back.steps.get(side="it"),
        by=it_reviewer,
        decision="request_changes",
        comment="Please attach the data processing agreement.",
    )
    approved = submitted(title="Laptops for the sales team")
    for side, reviewer in (("it", it_reviewer), ("procurement", procurement)):
        decide_step(approved.steps.get(side=side), by=reviewer, decision="approve")
    for user in (requester, it_reviewer, procurement, cio, cpo, finance, admin_user):
        notify(
            [user],
            subject=f"For your attention: {in_review.number}",
            lines=["A test notice."],
            action="Open it",
            url=in_review.get_absolute_url(),
            dedupe_key=f"a11y:{user.pk}",
            kind="assigned",
        )
    return {
        "finance": finance,
        "vendor": vendor,
        "draft": draft,
        "in_review": in_review,
        "sent_back": sent_back,
        "approved": approved,
    }


def pages_for(role: str, data: dict) -> list[str]:
    in_review, sent_back, approved = data["in_review"], data["sent_back"], data["approved"]
    vendor = data["vendor"]
    reviewer_pages = [
        "/approvals/",
        in_review.get_absolute_url(),
        "/vendors/",
        "/vendors/?status=under_review",
        vendor.get_absolute_url(),
        "/insights/",
        f"/approvals/rules/preview/?request={in_review.pk}",
        "/notifications/",
        "/requests/",
    ]
    return {
        "requester": [
            "/requests/",
            "/requests/?state=in_review&q=a&sort=cost_high",
            "/requests/?q=nothing-matches-this",
            "/requests/new/",
            data["draft"].get_absolute_url(),
            f"{data['draft'].get_absolute_url()}edit/",
            in_review.get_absolute_url(),
            sent_back.get_absolute_url(),
            f"{sent_back.get_absolute_url()}edit/",
            approved.get_absolute_url(),
            "/approvals/",
            "/notifications/",
            "/accounts/out-of-office/",
            "/accounts/time-zone/",
            "/requests/999999/",
        ],
        "it_reviewer": [*reviewer_pages, "/vendors/new/", sent_back.get_absolute_url()],
        "procurement": [*reviewer_pages, approved.get_absolute_url(), "/budgets/renewals/"],
        "cio": [*reviewer_pages, approved.get_absolute_url()],
        "cpo": reviewer_pages,
        "finance": [*reviewer_pages, "/budgets/import/"],
        "admin": [
            *reviewer_pages,
            "/admin/",
            "/admin/approvals/approvalrule/",
            f"/admin/approvals/approvalrule/{ApprovalRule.objects.order_by('pk').first().pk}/change/",
            "/admin/accounts/user/",
            "/admin/accounts/delegation/add/",
            "/admin/calendars/workcalendar/add/",
            "/admin/intake/category/",
            "/admin/vendors/vendor/",
            "/admin/budgets/budget/",
            "/admin/budgets/budget/add/",
        ],
    }[role]


ROLES = ["requester", "it_reviewer", "procurement", "cio", "cpo", "finance", "admin"]


@pytest.mark.parametrize("role", ROLES)
def test_no_serious_accessibility_violation_on_any_page(
    request, role, organisation, live_server, sign_in, page: Page
):
    user = (
        organisation["finance"]
        if role == "finance"
        else request.getfixturevalue("admin_user" if role == "admin" else role)
    )
    sign_in(user)
    failures = {}
    for path in pages_for(role, organisation):
        response = page.goto(f"{live_server.url}{path}")
        assert response.status < 500, f"{path} answered {response.status}"
        page.wait_for_load_state("load")
        violations = axe_violations(page)
        if violations:
            failures[path] = describe(violations)
    assert not failures, "\n".join(f"{path}:\n{text}" for path, text in failures.items())


def test_a_form_with_errors_has_no_serious_violation(organisation, requester, sign_in, page: Page):
    sign_in(requester)
    page.get_by_role("link", name="New request").first.click()
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_role("alert").first).to_be_visible()
    violations = axe_violations(page)
    assert not violations, describe(violations)


def test_the_sign_in_page_and_its_errors_have_no_serious_violation(live_server, page: Page):
    page.goto(f"{live_server.url}/accounts/login/")
    assert not axe_violations(page), describe(axe_violations(page))
    page.get_by_label("Username").fill("nobody")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert").first).to_be_visible()
    violations = axe_violations(page)
    assert not violations, describe(violations)
