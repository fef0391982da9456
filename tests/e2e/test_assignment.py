"""Work is assigned, not raced, in a real browser (issue #28): an IT reviewer takes a step from
the request page; it shows as theirs first in Waiting for me, and as theirs to a colleague; they
hand it to that colleague, who is told and finds it first in their own Waiting for me. And an
admin turns on round robin for IT review: new steps go to the reviewers in turn, skipping the
one out of office."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts import roles
from accounts.models import Delegation
from approvals import workflow
from tests.factories import PurchaseRequestFactory, UserFactory

from .accessibility import AXE, AXE_TAGS, FAILING_IMPACTS, describe

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def axe_violations(page: Page) -> list[dict]:
    """The serious and critical WCAG 2.1 AA violations on the page. axe is evaluated through
    the browser's debugging protocol, which the page's Content-Security-Policy does not govern
    (the CSP stays on: a script tag would be refused)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    result = page.evaluate(
        """tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})
            .then(r => r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ')),
            })))""",
        AXE_TAGS,
    )
    return [v for v in result if v["impact"] in FAILING_IMPACTS]


def sign_out(page: Page, live_server):
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")


def test_take_a_step_and_hand_it_to_a_colleague(live_server, sign_in):
    rita = UserFactory(username="rita", first_name="Rita", last_name="Requester")
    ivan = UserFactory(
        username="ivan", first_name="Ivan", last_name="Novak", roles=[roles.IT_REVIEWERS]
    )
    irene = UserFactory(
        username="irene", first_name="Irene", last_name="Ives", roles=[roles.IT_REVIEWERS]
    )
    UserFactory(username="paul", first_name="Paul", last_name="Procure", roles=[roles.PROCUREMENT])
    earlier = workflow.submit_request(
        PurchaseRequestFactory(requester=rita, title="Laptops for the new starters"), by=rita
    )
    purchase_request = workflow.submit_request(
        PurchaseRequestFactory(requester=rita, title="Miro whiteboards for design"), by=rita
    )
    it_step = purchase_request.steps.get(side="it")
    block = f"#step-{it_step.pk}"

    # Ivan takes the step from the request page.
    page = sign_in(ivan)
    page.goto(f"{live_server.url}{purchase_request.get_absolute_url()}")
    panel = page.locator(block)
    expect(panel.locator("[data-waiting-on]")).to_contain_text("Waiting on")
    panel.get_by_role("button", name="I’ll take it").click()
    expect(page.get_by_role("alert").filter(has_text="is yours now")).to_be_visible()
    expect(panel.locator("[data-holder]")).to_have_text("Taken by you")
    expect(panel.get_by_role("button", name="I’ll take it")).to_have_count(0)
    assert not (violations := axe_violations(page)), describe(violations)

    # It is first in his Waiting for me, above the older request.
    page.get_by_role("link", name="Waiting for me").click()
    yours = page.locator("#held-by-me")
    expect(yours.locator("tbody tr")).to_have_count(1)
    expect(yours).to_contain_text("Miro whiteboards for design")
    expect(page.locator("#waiting-for-me tbody tr")).to_have_count(1)
    expect(page.locator("#waiting-for-me")).to_contain_text(earlier.title)
    assert not (violations := axe_violations(page)), describe(violations)

    # He hands it to Irene: the list offers who may decide it, never the requester.
    yours.get_by_role("link", name=purchase_request.title).click()
    panel = page.locator(block)
    panel.get_by_text("Hand to…").click()
    choices = panel.get_by_label("Hand it to")
    expect(choices.locator("option", has_text="Rita")).to_have_count(0)
    expect(choices.locator("option", has_text="Paul")).to_have_count(0)
    assert not (violations := axe_violations(page)), describe(violations)
    choices.select_option(label="Irene Ives")
    panel.get_by_role("button", name="Hand over").click()
    expect(page.get_by_role("alert").filter(has_text="handed to Irene Ives")).to_be_visible()
    expect(page.locator(block).locator("[data-holder]")).to_have_text("Taken by Irene Ives")
    page.get_by_role("link", name="Waiting for me").click()
    expect(page.locator("#held-by-me")).to_have_count(0)
    row = page.locator(f'#waiting-for-me tr[data-step="{it_step.pk}"]')
    expect(row.locator("[data-holder]")).to_have_text("Irene Ives")
    sign_out(page, live_server)

    # Irene is told, and finds it first in her own Waiting for me.
    sign_in(irene)
    expect(page.locator("#unread-count")).to_have_text("3")  # two IT steps opened, one hand-over
    page.goto(f"{live_server.url}/notifications/")
    expect(page.locator("#notifications")).to_contain_text("Ivan Novak handed you")
    page.get_by_role("link", name="Waiting for me").click()
    yours = page.locator("#held-by-me")
    expect(yours.locator("tbody tr")).to_have_count(1)
    expect(yours).to_contain_text("Miro whiteboards for design")
    expect(yours.locator("[data-holder]")).to_have_text("You")
    yours.get_by_role("link", name=purchase_request.title).click()
    panel = page.locator(block)
    expect(panel.locator("[data-holder]")).to_have_text("Taken by you")
    page.locator("#decide").get_by_role("button", name="Approve", exact=True).click()
    expect(page.locator(block)).to_have_attribute("data-step-state", "approved")


def test_an_admin_turns_on_round_robin_and_it_skips_the_person_out_of_office(live_server, sign_in):
    ada = UserFactory(username="ada", first_name="Ada", is_staff=True, is_superuser=True)
    rita = UserFactory(username="rita", first_name="Rita", last_name="Requester")
    ana, ben, cai = (
        UserFactory(username=name, first_name=name.title(), last_name="Reviewer",
                    roles=[roles.IT_REVIEWERS])
        for name in ("ana", "ben", "cai")
    )  # fmt: skip
    UserFactory(username="paul", roles=[roles.PROCUREMENT])
    now = timezone.now()
    Delegation.objects.create(
        delegator=ben,
        delegate=cai,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=5),
    )

    # The admin sets IT review to round robin.
    page = sign_in(ada)
    page.goto(f"{live_server.url}/admin/approvals/groupassignment/add/")
    page.get_by_label("Group").select_option(label="IT review")
    page.get_by_label("Mode").select_option(value="round_robin")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    page.goto(f"{live_server.url}/approvals/")
    sign_out(page, live_server)

    first, second = (
        workflow.submit_request(PurchaseRequestFactory(requester=rita, title=title), by=rita)
        for title in ("Miro whiteboards for design", "Laptops for the new starters")
    )

    # Ana has the first, Cai the second (Ben is out of office); each finds theirs first.
    for person, mine, theirs in ((ana, first, second), (cai, second, first)):
        sign_in(person)
        expect(page.locator("#unread-count")).not_to_have_count(0)
        page.get_by_role("link", name="Waiting for me").click()
        yours = page.locator("#held-by-me")
        expect(yours.locator("tbody tr")).to_have_count(1)
        expect(yours).to_contain_text(mine.title)
        row = page.locator(f'#waiting-for-me tr[data-number="{theirs.number}"]')
        expect(row.locator("[data-holder]")).to_have_text(
            f"{'Cai' if person == ana else 'Ana'} Reviewer"
        )
        assert not (violations := axe_violations(page)), describe(violations)
        sign_out(page, live_server)

    # Ben, away, was given nothing; the request page says who has each.
    sign_in(ben)
    page.get_by_role("link", name="Waiting for me").click()
    expect(page.locator("#held-by-me")).to_have_count(0)
    page.goto(f"{live_server.url}{first.get_absolute_url()}")
    step = first.steps.get(side="it")
    expect(page.locator(f"#step-{step.pk} [data-holder]")).to_have_text("Taken by Ana Reviewer")
    expect(page.locator("#timeline")).to_contain_text(
        "IT review step (stage 1) assigned to Ana Reviewer by round robin"
    )
