"""Mail that isn't noise, in a real browser (issue #28 item 2): a reviewer who had chosen to
hear of their group's new items at once opens their notification settings from their own menu,
sets "My group's new items" to the daily digest and saves; the page says so. From then on the
steps opening for their group send no e-mail each: one digest e-mail a day lists them, even
when the digest task runs twice. The page passes axe (WCAG 2.1 AA) under the CSP."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts import roles
from approvals import workflow
from notifications import services
from notifications.models import Delivery, Kind
from notifications.tasks import send_digests
from tests.factories import PurchaseRequestFactory, UserFactory

from .accessibility import axe_violations, describe

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_reviewer_chooses_the_daily_digest_for_their_groups_new_items(
    live_server, sign_in, page: Page
):
    rita = UserFactory(username="rita", first_name="Rita", last_name="Requester")
    ivan = UserFactory(
        username="ivan", first_name="Ivan", last_name="Novak", roles=[roles.IT_REVIEWERS]
    )
    UserFactory(username="paul", first_name="Paul", last_name="Procure", roles=[roles.PROCUREMENT])
    services.set_preferences(ivan, {Kind.GROUP: Delivery.AT_ONCE})

    sign_in(ivan)
    page.get_by_role("link", name="Ivan Novak").click()  # the person's own menu
    page.get_by_role("link", name="notification settings").click()
    expect(page.get_by_role("heading", name="Notification settings")).to_be_visible()
    group_items = page.get_by_label("My group's new items")
    expect(group_items).to_have_value("at_once")
    group_items.select_option(label="Daily digest")
    page.get_by_role("button", name="Save notification settings").click()
    expect(page.get_by_role("alert")).to_contain_text("Your notification settings are saved.")
    expect(page.get_by_label("My group's new items")).to_have_value("digest")
    expect(page.get_by_label("Assigned to me")).to_have_value("at_once")
    violations = axe_violations(page)
    assert not violations, describe(violations)

    # Two steps open for Ivan's group: no e-mail each, one digest listing both.
    titles = ["Laptops for the new starters", "Monitors for finance"]
    for title in titles:
        workflow.submit_request(PurchaseRequestFactory(requester=rita, title=title), by=rita)
    assert [m for m in mail.outbox if m.to == [ivan.email]] == []
    tomorrow_morning = (timezone.now() + timedelta(days=1)).replace(hour=9, minute=15)
    with time_machine.travel(tomorrow_morning, tick=False):  # the hourly task, after 07:00
        assert send_digests() == 2  # Ivan and Paul (procurement), one each
        assert send_digests() == 0  # a second run (or scheduler) sends nothing more
    (digest,) = [m for m in mail.outbox if m.to == [ivan.email]]
    assert "2 new items" in digest.subject
    assert all(title in digest.body for title in titles)

    # In the app both still show, under the bell.
    page.get_by_role("link", name="Back to notifications").click()
    for title in titles:
        expect(page.locator("#notifications")).to_contain_text(title)
