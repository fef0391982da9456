"""The decision card in a real Chromium (issue 29, item 3), on a phone (390 px) and a laptop
(1366 px): a budget owner opens an overrun from Waiting for me and sees it in the card at the
top of the page, presses r, sends without a reason and finds the error at the box, which has
the focus; writes the reason and rejects; j goes on to the next request of the queue. The page
is axe-core clean with the card, with its error, and after the decision."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from approvals import workflow
from approvals.models import Side, StepState
from approvals.services import decide_step
from budgets import fiscal
from budgets.models import Budget
from intake.models import State
from tests.e2e.accessibility import axe_violations, describe, sideways_overflow
from tests.factories import DepartmentFactory, PurchaseRequestFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

LAPTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def assert_accessible(page: Page):
    violations = axe_violations(page)
    assert not violations, describe(violations)
    assert sideways_overflow(page) <= 0, "the page scrolls sideways"


@pytest.fixture
def overruns(requester, it_reviewer, procurement):
    """Two requests over the budgets Olga owns, reviewed by IT and procurement: each waits for
    her approval of the overrun. The first is due first."""
    olga = UserFactory(username="olga", first_name="Olga", last_name="Owner", roles=["finance"])
    needed_by = timezone.localdate() + timedelta(days=20)
    made = []
    for name, cost, spent in (("Design", "20800.00", "20242.00"), ("Sales", "5000.00", "0")):
        department = DepartmentFactory(name=name, cost_centre=name[:3].upper())
        Budget.objects.create(
            department=department,
            fiscal_year=fiscal.fiscal_year_of(needed_by),
            amount=Decimal("40000" if spent != "0" else "4000"),
            owner=olga,
        )
        if spent != "0":
            PurchaseRequestFactory(
                department=department,
                state=State.APPROVED,
                total_cost=Decimal(spent),
                needed_by=needed_by,
            )
        purchase_request = workflow.submit_request(
            PurchaseRequestFactory(
                requester=requester,
                department=department,
                title=f"{name} servers",
                total_cost=Decimal(cost),
                line_items=[("Server", "2", str(Decimal(cost) / 2))],
                needed_by=needed_by,
            ),
            by=requester,
        )
        for step in purchase_request.steps.filter(state=StepState.OPEN):
            decider = it_reviewer if step.side == Side.IT else procurement
            decide_step(step, by=decider, decision="approve")
        assert purchase_request.steps.filter(side=Side.FINANCE, state=StepState.OPEN).exists()
        made.append(purchase_request)
    return olga, made


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["390px", "1366px"])
def test_a_budget_owner_rejects_an_overrun_from_the_card_by_keyboard(
    live_server, sign_in, overruns, viewport
):
    olga, (design, sales) = overruns
    page = sign_in(olga)
    page.set_viewport_size(viewport)
    page.goto(f"{live_server.url}/approvals/")  # on a phone the menu is folded away
    page.locator(f'#waiting-for-me tr[data-number="{design.number}"]').get_by_role(
        "link"
    ).first.click()

    # The card leads the page, with the overrun in plain words.
    card = page.locator("#decide")
    expect(card.get_by_role("heading", name="Your decision")).to_be_visible()
    details = page.get_by_role("heading", name="Details").bounding_box()
    assert card.bounding_box()["y"] < details["y"]
    expect(card.locator('[data-fact="cost"]')).to_have_text("20,800.00 EUR, paid once")
    expect(card.locator('[data-fact="budget"]')).to_contain_text(
        "Takes 20,800.00 EUR of 19,758.00 EUR available: over by 1,042.00 EUR"
    )
    expect(card).to_contain_text("Keyboard: a approve · c changes · r reject · j/k next/previous")
    card.evaluate("el => el.scrollIntoView()")
    assert_accessible(page)

    # r: rejecting, in the reason box; sent without a reason, the error is at the box.
    box = card.get_by_label("Comment")
    page.wait_for_load_state()  # the keys' script runs as the page loads
    page.keyboard.press("r")
    expect(box).to_be_focused()
    expect(box).to_have_value("")  # the key chose; it typed nothing
    expect(card.locator("[data-decision-help]")).to_contain_text("Rejecting: say why")
    page.keyboard.press("Control+Enter")

    card = page.locator("#decide")
    box = card.get_by_label("Comment")
    error = card.locator("[data-decision-error]")
    expect(error).to_contain_text("a comment is required to reject")
    expect(box).to_be_focused()
    expect(box).to_have_attribute("aria-invalid", "true")
    expect(box).to_have_accessible_description(
        "Say why: a comment is required to reject or to request changes. "
        "Required to reject or to request changes."
    )
    gap = error.evaluate(
        "el => el.getBoundingClientRect().top"
        " - document.getElementById(el.id.replace('-error-', '-')).getBoundingClientRect().bottom"
    )
    assert 0 <= gap < 40  # right under the box
    expect(error).to_be_in_viewport()
    expect(page.get_by_role("alert")).to_have_count(0)  # no message off at the top
    assert design.steps.get(side=Side.FINANCE).state == StepState.OPEN
    assert_accessible(page)

    # The reason, then Reject.
    box.fill("Over budget: wait for next year's budget.")
    card.get_by_role("button", name="Reject").click()
    expect(page.get_by_role("alert").filter(has_text="step rejected")).to_be_visible()
    expect(page.locator("main [data-state]").first).to_have_text("Rejected")
    expect(page.locator("#decide")).to_have_count(0)
    finance = design.steps.get(side=Side.FINANCE)
    assert (finance.state, finance.comment) == (
        StepState.REJECTED,
        "Over budget: wait for next year's budget.",
    )
    assert_accessible(page)
    page.wait_for_load_state()

    # j: the next request of her queue, its card ready; a focuses Approve (and decides nothing).
    page.keyboard.press("j")
    expect(page.get_by_role("heading", name="Sales servers")).to_be_visible()
    card = page.locator("#decide")
    expect(card.locator('[data-fact="budget"]')).to_contain_text("over by 1,000.00 EUR")
    page.wait_for_load_state()
    page.keyboard.press("a")
    expect(card.get_by_role("button", name="Approve")).to_be_focused()
    assert sales.steps.get(side=Side.FINANCE).state == StepState.OPEN
    assert_accessible(page)


def test_keys_do_nothing_while_typing_and_requesters_see_no_card(
    live_server, sign_in, overruns, requester
):
    olga, (design, _) = overruns
    page = sign_in(olga)
    page.goto(f"{live_server.url}{design.get_absolute_url()}")
    box = page.locator("#decide").get_by_label("Comment")
    page.wait_for_load_state()
    box.click()
    page.keyboard.type("a jar of cream")  # a, j, r and c are letters here
    expect(box).to_have_value("a jar of cream")
    expect(page).to_have_url(f"{live_server.url}{design.get_absolute_url()}")
    assert design.steps.get(side=Side.FINANCE).state == StepState.OPEN

    page.context.clear_cookies()
    page = sign_in(requester)
    page.goto(f"{live_server.url}{design.get_absolute_url()}")
    expect(page.get_by_role("heading", name="Design servers")).to_be_visible()
    expect(page.locator("#decide")).to_have_count(0)
    expect(page.get_by_text("Keyboard:")).to_have_count(0)
