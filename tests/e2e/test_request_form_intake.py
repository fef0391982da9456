"""The request form as Zip's intake (issue 29, items 4 and 7), in a real Chromium at a phone's
390 px and a laptop's 1366 px: one empty line item to start, no "---------", amounts written as
the server writes them, the approvers named as people with the dates they are expected to
decide by; and, editing a request sent back, what a change restarts, before it is saved."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts import roles
from approvals import workflow
from approvals.models import ApprovalRule, RuleKind, Side, StepKind
from approvals.services import decide_step
from core import formats
from intake.models import PurchaseRequest, State
from tests.e2e.accessibility import PHONE, axe_violations, describe, sideways_overflow
from tests.factories import CategoryFactory, PurchaseRequestFactory, UserFactory, VendorFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

LAPTOP = {"width": 1366, "height": 768}


def line(page: Page, row: int, column: str):
    return page.locator(f'[name="items-{row}-{column}"]')


@pytest.fixture
def organisation(requester):
    """IT review: Ivan Ito, Ines Ives and the requester (Rita Reyes) herself; procurement Paula
    Pike; above 25,000 the CIO Cora Chen and the CPO Cleo Cole sign off at stage 2. Stage 1 has
    a 48-hour SLA, stage 2 24 hours, on the default calendar (around the clock in tests)."""
    ApprovalRule.objects.filter(kind=RuleKind.VENDOR_REVIEW).update(active=False)
    ApprovalRule.objects.update(sla_hours=48)
    for name, side in ((roles.CIO, Side.IT), (roles.CPO, Side.PROCUREMENT)):
        ApprovalRule.objects.create(
            name=f"{name} above 25k",
            min_total=Decimal("25000"),
            reviewer_group=Group.objects.get(name=name),
            side=side,
            stage=2,
            sla_hours=24,
        )
    requester.first_name, requester.last_name = "Rita", "Reyes"
    requester.save()
    requester.groups.add(Group.objects.get(name=roles.IT_REVIEWERS))
    return {
        "ivan": UserFactory(first_name="Ivan", last_name="Ito", roles=[roles.IT_REVIEWERS]),
        "ines": UserFactory(first_name="Ines", last_name="Ives", roles=[roles.IT_REVIEWERS]),
        "paula": UserFactory(first_name="Paula", last_name="Pike", roles=[roles.PROCUREMENT]),
        "cora": UserFactory(first_name="Cora", last_name="Chen", roles=[roles.CIO]),
        "cleo": UserFactory(first_name="Cleo", last_name="Cole", roles=[roles.CPO]),
    }


def days_after(hours: int, since, until) -> list[str]:
    """The date `hours` after the page was worked out, as the product writes it: between `since`
    and `until` (a test running across midnight may see either day)."""
    return sorted(
        {formats.day(moment + timedelta(hours=hours), weekday=True) for moment in (since, until)}
    )


@pytest.mark.parametrize("size", [PHONE, LAPTOP], ids=["390px", "1366px"])
def test_a_requester_sees_one_line_the_people_and_the_dates(
    live_server, sign_in, page: Page, requester, organisation, size
):
    category = CategoryFactory(name="Software licence", slug="software-licence")
    VendorFactory(name="Figma", status="approved")
    page.set_viewport_size(size)
    sign_in(requester)
    since = timezone.now()
    page.goto(f"{live_server.url}/requests/new/")

    expect(page.locator("#line-items tbody tr:visible")).to_have_count(1)
    options = page.locator("#request-form select option").all_inner_texts()
    assert options and "---------" not in options
    assert "Choose a category" in options and "None: I propose a new vendor below" in options
    expect(page.locator('label[for="id_vendor"] .text-danger')).to_have_count(0)
    expect(page.locator("#id_vendor_one_of")).to_contain_text("One of the two")
    assert page.locator("#id_currency optgroup").evaluate_all(
        "groups => groups.map(g => g.label)"
    ) == ["Usual", "All currencies"]

    page.get_by_label("Title").fill("Design platform")
    page.get_by_label("Category").select_option(label=category.name)
    page.get_by_label("Existing vendor").select_option(label="Figma")
    line(page, 0, "description").fill("Platform licence")
    line(page, 0, "quantity").fill("1")
    line(page, 0, "unit_price").fill("30000")
    amount = page.locator("#line-items tbody tr").first.locator("[data-line-amount]")
    # The script writes what core.formats.money writes, decimals of the currency included.
    expect(amount).to_have_text(formats.money(Decimal("30000"), "EUR"))
    page.get_by_label("Currency").select_option("JPY")
    expect(amount).to_have_text(formats.money(Decimal("30000"), "JPY"))
    expect(amount).to_have_text("30,000 JPY")
    page.get_by_label("Currency").select_option("EUR")
    expect(page.locator("#tco-total")).to_have_text("30,000.00 EUR")
    line(page, 0, "unit_price").blur()

    preview = page.locator("#approvers-preview")
    expect(preview.locator('[data-stage="2"]')).to_be_visible()
    until = timezone.now()
    first, then = preview.locator('[data-stage="1"]'), preview.locator('[data-stage="2"]')
    expect(first).to_contain_text("Ines Ives or Ivan Ito (IT review) and Paula Pike (Procurement)")
    expect(then).to_contain_text("then Cora Chen (CIO) and Cleo Cole (CPO)")
    assert first.locator("[data-expected]").inner_text() in days_after(48, since, until)
    assert then.locator("[data-expected]").inner_text() in days_after(72, since, until)
    expect(preview).not_to_contain_text("Rita Reyes")  # four eyes: never her own approver

    if size == PHONE:
        assert sideways_overflow(page) <= 0
    violations = axe_violations(page)
    assert not violations, describe(violations)
    assert not PurchaseRequest.objects.exists()  # nothing saved yet


@pytest.fixture
def sent_back(requester, organisation):
    """15,000.00 EUR in round 1: Ivan approved the IT review, Paula asked for changes."""
    purchase_request = PurchaseRequestFactory(
        requester=requester,
        total_cost=Decimal("15000.00"),
        line_items=[("Platform licence", "1", "15000.00")],
    )
    workflow.submit_request(purchase_request, by=requester)
    steps = {s.side: s for s in purchase_request.steps.filter(kind=StepKind.REVIEW)}
    decide_step(steps[Side.IT], by=organisation["ivan"], decision="approve", comment="Secure.")
    decide_step(
        steps[Side.PROCUREMENT],
        by=organisation["paula"],
        decision="request_changes",
        comment="Quote?",
    )
    purchase_request.refresh_from_db()
    assert purchase_request.state == State.CHANGES_REQUESTED
    return purchase_request


@pytest.mark.parametrize("size", [PHONE, LAPTOP], ids=["390px", "1366px"])
def test_a_resubmission_that_doubles_the_cost_warns_before_saving(
    live_server, sign_in, page: Page, requester, sent_back, size
):
    page.set_viewport_size(size)
    sign_in(requester)
    page.goto(f"{live_server.url}/requests/{sent_back.pk}/edit/")
    warning = page.locator("#change-effect")
    expect(warning).to_contain_text(
        "Not a material change: Ivan Ito's approval (IT review) carries over; Paula Pike "
        "(Procurement) is asked again."
    )

    line(page, 0, "unit_price").fill("30000")

    expect(warning).to_contain_text(
        "This change restarts the review: the total cost rose from 15,000.00 EUR to 30,000.00 EUR, "
        "more than the 10% tolerance."
    )
    expect(warning).to_contain_text(
        "All four approvers are asked again: Ines Ives or Ivan Ito (IT review), Paula Pike "
        "(Procurement), Cora Chen (CIO) and Cleo Cole (CPO)."
    )
    # It sits just above the button that would resubmit, and nothing is saved yet.
    box = warning.bounding_box()
    button = page.get_by_role("button", name="Save and resubmit").bounding_box()
    assert box["y"] + box["height"] <= button["y"]
    sent_back.refresh_from_db()
    assert sent_back.total_cost == Decimal("15000.00")
    if size == PHONE:
        assert sideways_overflow(page) <= 0
    violations = axe_violations(page)
    assert not violations, describe(violations)

    line(page, 0, "unit_price").fill("15500")
    expect(warning).to_contain_text("Not a material change")
