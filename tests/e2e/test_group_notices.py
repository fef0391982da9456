"""A group's notice in a real browser (issue #28 item 2): a request opens a step for IT review,
one notice for the whole group. Ines sees it under the bell, opens it from her inbox and lands
on the request; it is read for her only: Ivan's bell still counts it. Rita, who filed it and is
in the group too, never sees it. The inbox passes axe (WCAG 2.1 AA) under the CSP."""

import pytest
from playwright.sync_api import Page, expect

from accounts import roles
from approvals import workflow
from tests.factories import PurchaseRequestFactory, UserFactory

from .accessibility import axe_violations, describe

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_out(page: Page, live_server):
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")


def test_each_member_reads_the_groups_notice_for_themselves(live_server, sign_in, page: Page):
    people = {
        name: UserFactory(
            username=name.lower(), first_name=name, last_name="Novak", roles=[roles.IT_REVIEWERS]
        )
        for name in ("Ivan", "Ines", "Rita")
    }
    UserFactory(username="paul", first_name="Paul", last_name="Procure", roles=[roles.PROCUREMENT])
    rita = people["Rita"]
    workflow.submit_request(
        PurchaseRequestFactory(requester=rita, title="Figma seats for design"), by=rita
    )

    sign_in(people["Ines"])
    expect(page.locator("#notification-bell")).to_have_attribute(
        "aria-label", "Notifications, 1 unread"
    )
    page.locator("#notification-bell").click()
    item = page.locator("#notifications li").filter(has_text="Figma seats for design")
    expect(item).to_have_attribute("data-unread", "true")
    violations = axe_violations(page)
    assert not violations, describe(violations)
    item.get_by_role("button", name="Open").click()
    expect(page.get_by_role("heading", name="Figma seats for design")).to_be_visible()
    expect(page.locator("#unread-count")).to_have_count(0)
    page.locator("#notification-bell").click()
    expect(item).to_have_attribute("data-unread", "false")
    sign_out(page, live_server)

    sign_in(people["Ivan"])  # read by Ines, not by him
    expect(page.locator("#unread-count")).to_have_text("1")
    sign_out(page, live_server)

    sign_in(rita)  # her own request: nothing to decide, nothing under the bell
    expect(page.locator("#unread-count")).to_have_count(0)
    page.locator("#notification-bell").click()
    expect(page.locator("#notifications")).to_contain_text("No notifications.")
