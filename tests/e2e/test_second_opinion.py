"""A second opinion in a real browser (SPEC §3): the IT reviewer asks the CIO a question from
the step panel; the CIO is notified, finds the question under Waiting for me, answers it on
the request page (and gets no decision buttons); the reviewer reads the answer on the step
and in the timeline, then decides. Opening the request reads the notifications about it."""

from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from accounts import roles
from approvals import workflow
from tests.factories import PurchaseRequestFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"


def accessibility_violations(page: Page, selector: str) -> list[str]:
    """axe-core's WCAG 2.1 A/AA rules on the second-opinion parts of a step (evaluated through
    the browser's debugging protocol, which the page's Content-Security-Policy does not
    govern)."""
    page.evaluate(AXE.read_text())
    result = page.evaluate(
        """selector => axe
            .run({include: [[`${selector} .consultations`], [`${selector} .ask-colleague`]]},
                 {runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]})
            .then(r => r.violations.map(
                v => `${v.id}: ${v.nodes.map(n => n.target).join(", ")}`))""",
        selector,
    )
    return result


def sign_out(page: Page, live_server):
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")


def test_ask_a_colleague_answer_and_decide(live_server, sign_in):
    rita = UserFactory(username="rita", first_name="Rita", last_name="Requester")
    ivan = UserFactory(
        username="ivan", first_name="Ivan", last_name="Itreview", roles=[roles.IT_REVIEWERS]
    )
    UserFactory(username="paul", first_name="Paul", last_name="Procure", roles=[roles.PROCUREMENT])
    cora = UserFactory(username="cora", first_name="Cora", last_name="Cio", roles=[roles.CIO])
    purchase_request = workflow.submit_request(
        PurchaseRequestFactory(requester=rita, title="Miro whiteboards for design"), by=rita
    )
    url = f"{live_server.url}{purchase_request.get_absolute_url()}"
    it_step = purchase_request.steps.get(side="it")
    block = f"#step-{it_step.pk}"

    # Ivan asks Cora from the step panel.
    page = sign_in(ivan)
    page.goto(url)
    panel = page.locator(block)
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    panel.get_by_text("Ask a colleague for a second opinion").click()
    assert accessibility_violations(page, block) == []
    panel.get_by_label("Colleague").select_option(label="Cora Cio")
    expect(panel.get_by_label("Colleague").locator("option", has_text="Rita")).to_have_count(0)
    panel.get_by_label("Question").fill("Is Miro on our architecture list?")
    panel.get_by_role("button", name="Ask").click()
    expect(page.get_by_role("alert").filter(has_text="sent to Cora Cio")).to_be_visible()
    expect(panel.locator("[data-consultation]")).to_contain_text("Ivan Itreview asked Cora Cio")
    expect(panel.locator("[data-consultation]")).to_contain_text("Waiting for Cora Cio’s answer")
    assert accessibility_violations(page, block) == []
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_out(page, live_server)

    # Cora is notified (the bell counts it), finds the question and answers it.
    sign_in(cora)
    expect(page.locator("#unread-count")).to_have_text("1")
    page.get_by_role("link", name="Waiting for me").click()
    questions = page.locator("#questions-for-me")
    expect(questions).to_contain_text("Is Miro on our architecture list?")
    expect(questions).to_contain_text("Ivan Itreview")
    questions.get_by_role("link", name="Miro whiteboards for design").click()
    # Opening the request read the notification; Cora has no decision buttons.
    expect(page.locator("#unread-count")).to_have_count(0)
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    expect(page.locator("#decide")).to_have_count(0)
    expect(page.locator(block).get_by_text("Ask a colleague")).to_have_count(0)
    assert accessibility_violations(page, block) == []
    page.get_by_label("Your answer to Ivan Itreview").fill("Yes, approved for design last year.")
    page.get_by_role("button", name="Send answer").click()
    expect(page.get_by_role("alert").filter(has_text="answer was sent to Ivan")).to_be_visible()
    expect(page.locator(block).locator("[data-consultation]")).to_have_attribute(
        "data-answered", "true"
    )
    page.get_by_role("link", name="Waiting for me").click()
    expect(page.locator("#questions-for-me")).to_have_count(0)
    sign_out(page, live_server)

    # Ivan reads the answer on the step and in the timeline, then decides.
    sign_in(ivan)
    page.goto(f"{live_server.url}/notifications/")
    expect(page.locator("#notifications")).to_contain_text("Cora Cio answered your question")
    expect(page.locator("#notifications")).to_contain_text("Yes, approved for design last year.")
    page.goto(url)
    panel = page.locator(block)
    expect(panel).to_contain_text("Cora Cio answered")
    expect(panel).to_contain_text("Yes, approved for design last year.")
    timeline = page.locator("#timeline")
    expect(timeline.locator('[data-kind="consultation_asked"]')).to_contain_text(
        "Asked Cora Cio for a second opinion"
    )
    expect(timeline.locator('[data-kind="consultation_answered"]')).to_contain_text(
        "Yes, approved for design last year."
    )
    card = page.locator("#decide")  # the decision card leads the page
    expect(card.locator('[data-fact="second-opinions"]')).to_contain_text("None open")
    card.get_by_label("Comment").fill("On the list, per the CIO.")
    card.get_by_role("button", name="Approve", exact=True).click()
    expect(page.locator(block)).to_have_attribute("data-step-state", "approved")
