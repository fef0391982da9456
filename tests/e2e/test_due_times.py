"""Due times in working hours, shown in each viewer's time zone, in a real browser (issue 16,
item 4): a request filed on Friday 16:00 in Berlin with an 8-hour SLA is due on Monday 16:00
Berlin time; the IT reviewer (no zone of their own: their team calendar's) reads "Monday 16:00
CET" in Waiting for me, the procurement reviewer in New York reads "Monday 10:00 EST" on the
request page. Both pages pass axe-core at phone width."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Group
from playwright.sync_api import Page, expect

from accounts import roles
from approvals import workflow
from approvals.models import ApprovalRule
from calendars.models import GroupCalendar, WorkCalendar
from tests.e2e.accessibility import PHONE, axe_violations, describe
from tests.factories import PurchaseRequestFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FRIDAY_16_BERLIN = datetime(2026, 12, 4, 16, tzinfo=ZoneInfo("Europe/Berlin"))


@pytest.fixture
def friday(requester):
    calendar = WorkCalendar.objects.create(
        name="Berlin office", time_zone="Europe/Berlin", holiday_country="DE", holiday_region="BE"
    )
    for name in (roles.IT_REVIEWERS, roles.PROCUREMENT):
        GroupCalendar.objects.create(group=Group.objects.get(name=name), calendar=calendar)
    ApprovalRule.objects.update(sla_hours=8, repeat_every_hours=8, escalate_after_hours=16)
    # The clock of the whole test (the live server's too) starts on Friday 16:00 in Berlin.
    with time_machine.travel(FRIDAY_16_BERLIN, tick=True):
        purchase_request = workflow.submit_request(
            PurchaseRequestFactory(requester=requester, title="Whiteboard licences"),
            by=requester,
        )
        yield purchase_request


def test_due_times_show_in_working_hours_and_the_viewers_zone(live_server, sign_in, friday):
    page: Page = sign_in(UserFactory(roles=[roles.IT_REVIEWERS], time_zone=""))
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/approvals/")
    row = page.locator(f'tr[data-number="{friday.number}"]')
    expect(row.locator("time")).to_have_text("Monday 16:00 CET")
    assert not (violations := axe_violations(page)), describe(violations)

    page.context.clear_cookies()
    page = sign_in(UserFactory(roles=[roles.PROCUREMENT], time_zone="America/New_York"))
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}{friday.get_absolute_url()}")
    panel = page.locator("#steps")
    expect(panel).to_contain_text("due Monday 10:00 EST")
    expect(panel).not_to_contain_text("overdue")
    assert not (violations := axe_violations(page)), describe(violations)
