"""SLAs, reminders and escalations count working hours (SPEC §8a), with frozen time across a
weekend, public holidays, an admin's closure and a daylight-saving change; the clock stops while
the request waits for its requester or for a vendor review."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Group

from accounts import roles
from approvals import workflow
from approvals.models import ApprovalRule, ProcessSettings, StepAlert, StepKind, StepState
from approvals.reminders import sweep_due_steps
from approvals.services import ask_colleague, decide_step
from calendars.models import Closure, GroupCalendar, WorkCalendar
from notifications.models import Channel, Notification
from tests.factories import PurchaseRequestFactory, UserFactory

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")


def berlin(*args):
    return datetime(*args, tzinfo=BERLIN)


@pytest.fixture
def office(db):
    """Monday to Friday, 9 to 17 in Berlin, with the public holidays of Berlin; IT and
    procurement work by it. Every rule: SLA 8 h, repeat every 8 h, escalate after 16 h."""
    calendar = WorkCalendar.objects.create(
        name="Berlin office", time_zone="Europe/Berlin", holiday_country="DE", holiday_region="BE"
    )
    for name in (roles.IT_REVIEWERS, roles.PROCUREMENT):
        GroupCalendar.objects.create(group=Group.objects.get(name=name), calendar=calendar)
    ApprovalRule.objects.update(sla_hours=8, repeat_every_hours=8, escalate_after_hours=16)
    return calendar


def submit_at(moment, requester, **fields):
    with time_machine.travel(moment, tick=False):
        return workflow.submit_request(
            PurchaseRequestFactory(requester=requester, **fields), by=requester
        )


def due(purchase_request, side="it", **filters):
    step = purchase_request.steps.filter(side=side, **filters).order_by("-round").first()
    return step.due_at.astimezone(BERLIN)


def sweep_at(moment, capture):
    with time_machine.travel(moment, tick=False), capture(execute=True):
        return sweep_due_steps()


def test_friday_16_with_8_hours_is_due_monday_16(office, requester):
    purchase_request = submit_at(berlin(2026, 12, 4, 16), requester)  # a Friday
    assert due(purchase_request) == berlin(2026, 12, 7, 16)
    assert due(purchase_request, "procurement") == berlin(2026, 12, 7, 16)
    step = purchase_request.steps.get(side="it")
    assert step.escalate_at.astimezone(BERLIN) == berlin(2026, 12, 8, 16)


def test_the_default_calendar_of_the_settings_serves_groups_without_one(settings, requester):
    settings.TANDEM_WORKING_HOURS = {
        "TIME_ZONE": "America/New_York",
        "WEEKDAYS": [0, 1, 2, 3, 4],
        "STARTS": "09:00",
        "ENDS": "17:00",
        "HOLIDAY_COUNTRY": "US",
    }
    ApprovalRule.objects.update(sla_hours=8)
    new_york = ZoneInfo("America/New_York")
    # Wednesday 25 Nov 2026 16:00: one hour; Thanksgiving (Thursday) is a US holiday, the
    # Friday after it is not a federal one: 9 to 16 on Friday.
    purchase_request = submit_at(datetime(2026, 11, 25, 16, tzinfo=new_york), requester)
    step = purchase_request.steps.get(side="it")
    assert step.due_at.astimezone(new_york) == datetime(2026, 11, 27, 16, tzinfo=new_york)


def test_public_holidays_do_not_count(office, requester):
    # Thursday 24 Dec 16:00: one hour; Christmas Day (Friday) is a holiday in Berlin.
    purchase_request = submit_at(berlin(2026, 12, 24, 16), requester)
    assert due(purchase_request) == berlin(2026, 12, 28, 16)


def test_an_admins_closure_does_not_count(office, requester):
    Closure.objects.create(
        calendar=office, name="Move", first_day=date(2026, 12, 7), last_day=date(2026, 12, 7)
    )
    purchase_request = submit_at(berlin(2026, 12, 4, 16), requester)
    assert due(purchase_request) == berlin(2026, 12, 8, 16)


def test_the_clock_crosses_the_change_from_summer_time(office, requester):
    # Friday 23 Oct 2026 16:00 CEST; Berlin leaves summer time on Sunday 25 Oct.
    purchase_request = submit_at(berlin(2026, 10, 23, 16), requester)
    assert due(purchase_request) == berlin(2026, 10, 26, 16)
    assert due(purchase_request).utcoffset().total_seconds() == 3600  # CET


def test_reminders_and_escalation_count_working_hours(
    office, requester, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    submit_at(berlin(2026, 12, 4, 16), requester)
    assert sweep_at(berlin(2026, 12, 6, 23), capture) == 0  # the weekend: no working time
    assert sweep_at(berlin(2026, 12, 7, 15, 59), capture) == 0
    assert sweep_at(berlin(2026, 12, 7, 16), capture) == 2  # due: one reminder per side
    assert sweep_at(berlin(2026, 12, 8, 9, 30), capture) == 0  # 1.5 working hours later
    assert sweep_at(berlin(2026, 12, 8, 16), capture) == 4  # 8 working hours: repeat, escalate
    assert sorted(StepAlert.objects.values_list("step__side", "kind", "sequence")) == [
        ("it", "escalation", 0),
        ("it", "reminder", 0),
        ("it", "reminder", 1),
        ("procurement", "escalation", 0),
        ("procurement", "reminder", 0),
        ("procurement", "reminder", 1),
    ]
    assert sweep_at(berlin(2026, 12, 8, 16), capture) == 0  # exactly once


def test_the_clock_stops_while_the_request_is_with_its_requester(office, requester, it_reviewer):
    purchase_request = submit_at(berlin(2026, 12, 7, 9), requester)  # Monday 9:00
    assert due(purchase_request, "procurement") == berlin(2026, 12, 7, 17)
    with time_machine.travel(berlin(2026, 12, 7, 13), tick=False):  # 4 of 8 hours used
        decide_step(
            purchase_request.steps.get(side="it"),
            by=it_reviewer,
            decision="request_changes",
            comment="Add the quote",
        )
    interrupted = purchase_request.steps.get(side="procurement", round=1)
    assert interrupted.state == StepState.SUPERSEDED
    # Back in review on Wednesday 11:00: the clock stood still for 14 working hours.
    with time_machine.travel(berlin(2026, 12, 9, 11), tick=False):
        workflow.resubmit_request(purchase_request, by=requester)
    resumed = purchase_request.steps.get(side="procurement", round=2)
    assert resumed.state == StepState.OPEN
    assert resumed.clock_resumed_from == interrupted
    # Four hours were left: due Wednesday 15:00, escalation moved by the same 14 hours.
    assert resumed.due_at.astimezone(BERLIN) == berlin(2026, 12, 9, 15)
    assert resumed.escalate_at.astimezone(BERLIN) == berlin(2026, 12, 10, 15)
    # The reviewer who asked for changes starts a fresh review of the changed request.
    fresh = purchase_request.steps.get(side="it", round=2)
    assert fresh.clock_resumed_from is None
    assert fresh.due_at.astimezone(BERLIN) == berlin(2026, 12, 10, 11)


def test_the_clock_does_not_run_while_the_vendor_is_reviewed(
    office, requester, it_reviewer, procurement
):
    purchase_request = submit_at(
        berlin(2026, 12, 4, 10),
        requester,
        vendor=None,
        proposed_vendor_name="Acme Analytics",
        proposed_vendor_website="https://acme.example",
    )
    assert set(purchase_request.steps.values_list("state", flat=True)) == {StepState.WAITING}
    vendor = purchase_request.vendor
    with time_machine.travel(berlin(2026, 12, 8, 10), tick=False):  # the next Tuesday
        decide_step(vendor.steps.get(side="it"), by=it_reviewer, decision="approve")
        decide_step(vendor.steps.get(side="procurement"), by=procurement, decision="approve")
    # The request's clock starts when the vendor is approved: 8 working hours from Tuesday 10:00.
    assert due(purchase_request) == berlin(2026, 12, 9, 10)


@pytest.mark.usefixtures("group_items_at_once")  # the e-mail at once, not in the digest
def test_each_reviewer_reads_the_due_time_in_their_own_zone(office, requester):
    from_team = UserFactory(roles=[roles.IT_REVIEWERS], time_zone="")
    in_tokyo = UserFactory(roles=[roles.IT_REVIEWERS], time_zone="Asia/Tokyo")
    submit_at(berlin(2026, 12, 4, 16), requester)
    body = {
        n.recipient: n.body
        for n in Notification.objects.filter(channel=Channel.EMAIL, subject__startswith="For")
    }
    assert "It is due Monday 16:00 CET (7 Dec 2026)." in body[from_team]
    assert "It is due Tuesday 00:00 JST (8 Dec 2026)." in body[in_tokyo]
    # One message per person and cause, whatever the zones.
    assert Notification.objects.filter(recipient=in_tokyo, channel=Channel.EMAIL).count() == 1


def test_a_second_opinion_is_reminded_after_working_hours(
    office, requester, it_reviewer, cio, settings
):
    settings.TANDEM_CONSULTATION_REMIND_AFTER_HOURS = 24
    purchase_request = submit_at(berlin(2026, 12, 4, 15), requester)  # Friday 15:00
    with time_machine.travel(berlin(2026, 12, 4, 16), tick=False):
        consultation = ask_colleague(
            purchase_request.steps.get(side="it"),
            by=it_reviewer,
            colleague=cio,
            question="Is the EU hosting enough?",
        )
    # Friday 1 h, Monday 8 h, Tuesday 8 h, Wednesday 7 h.
    assert consultation.remind_at.astimezone(BERLIN) == berlin(2026, 12, 9, 16)


def test_the_order_after_approval_is_due_in_procurements_working_hours(
    office, requester, it_reviewer, procurement
):
    ProcessSettings.objects.update_or_create(
        pk=1, defaults={"order_sla_hours": 8, "order_escalate_after_hours": 16}
    )
    purchase_request = submit_at(berlin(2026, 12, 4, 9), requester)
    with time_machine.travel(berlin(2026, 12, 4, 16), tick=False):  # approved Friday 16:00
        decide_step(purchase_request.steps.get(side="it"), by=it_reviewer, decision="approve")
        decide_step(
            purchase_request.steps.get(side="procurement", kind=StepKind.REVIEW),
            by=procurement,
            decision="approve",
        )
    order = purchase_request.steps.get(kind=StepKind.ORDER)
    assert order.due_at.astimezone(BERLIN) == berlin(2026, 12, 7, 16)
    assert order.escalate_at.astimezone(BERLIN) == berlin(2026, 12, 8, 16)
