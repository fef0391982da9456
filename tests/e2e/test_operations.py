"""The operations page in a browser: an admin reaches it from the menu, at 390 px wide, with no
accessibility violation axe-core finds (WCAG 2.1 AA) and no horizontal scrolling; a
notification that gave up is retried from it."""

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from notifications.models import Channel, Notification, Status
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


def test_an_admin_sees_the_operations_page_and_retries_a_notification(
    sign_in, page: Page, settings
):
    admin = UserFactory(username="ada", is_staff=True, is_superuser=True)
    Notification.objects.create(
        recipient=UserFactory(username="ivan", first_name="Ivan", last_name="Ito"),
        channel=Channel.EMAIL, subject="Reminder: PR-9 waits", body="b", url="/",
        status=Status.GAVE_UP, attempts=10, last_error="SMTPException: refused",
    )  # fmt: skip
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(admin)
    page.get_by_role("button", name="Toggle navigation").click()
    # The menu opens with a transition: click the link once it is shown, and wait for the page.
    operations = page.get_by_role("link", name="Operations")
    expect(operations).to_be_visible()
    with page.expect_navigation(url="**/operations/"):
        operations.click()
    expect(page.get_by_role("heading", name="Operations", level=1)).to_be_visible()
    expect(
        page.get_by_role("heading", name="Notifications that could not be delivered")
    ).to_be_visible()

    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.evaluate(AXE.read_text())
    violations = page.evaluate(
        """async () => (await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a',
        'wcag21aa']})).violations.map(v => v.id + ': ' + v.nodes.map(n => n.target).join(' '))"""
    )
    assert violations == [], "\n".join(violations)

    page.get_by_role("button", name="Retry “Reminder: PR-9 waits”").click()
    expect(page.get_by_role("alert")).to_contain_text("is queued for delivery again")
