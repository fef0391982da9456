"""One notice, once (issue #27): a contract's owner hears of its renewal from one schedule, once
per term, with a link to the renewal request where they act, and never after the renewal was
decided. The proof runs every task of the beat schedule (as stored for django-celery-beat), so
a second schedule telling the owner again, wherever it lives, fails it."""

import json
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.utils.module_loading import import_string
from django_celery_beat.models import PeriodicTask

from approvals import workflow
from budgets.models import Renewal
from notifications.models import Channel, Notification
from tests.factories import UserFactory, VendorFactory
from vendors.models import Contract

pytestmark = pytest.mark.django_db

# Ends 2027-03-03 with 30 days' notice: the deadline is 2027-02-01, the renewal is due 90 days
# before (from 2026-11-03), undecided ones are escalated 7 days before (2027-01-25).
ENDS_ON = date(2027, 3, 3)
BEFORE_THE_LEAD_TIME = date(2026, 11, 2)
FIRST_DAY = date(2026, 11, 3)
LATER_DAYS = [
    date(2026, 12, 15),
    date(2027, 1, 25),  # escalation day
    date(2027, 2, 1),  # the notice deadline: the old notice task wrote from here
    date(2027, 2, 20),
    ENDS_ON,
]


def run_every_scheduled_task(day: date) -> None:
    """Every enabled periodic task of the beat schedule, run on `day` as beat would (twice, as
    a retried run or a second scheduler would). A stored task naming code that no longer exists
    fails here."""
    tasks = list(PeriodicTask.objects.filter(enabled=True).order_by("name"))
    assert any(t.task == "budgets.tasks.renewal_schedule" for t in tasks)
    with time_machine.travel(datetime(day.year, day.month, day.day, 6, 30), tick=False):
        for _ in range(2):
            for task in tasks:
                import_string(task.task)(*json.loads(task.args), **json.loads(task.kwargs))


@pytest.fixture
def owner(db):
    return UserFactory(username="carl", first_name="Carl", last_name="Contract")


@pytest.fixture
def contract(owner):
    return Contract.objects.create(
        vendor=VendorFactory(name="Figma"), title="Figma Enterprise",
        starts_on=ENDS_ON - timedelta(days=365), ends_on=ENDS_ON, notice_days=30,
        annual_value=Decimal("12000"), owner=owner,
    )  # fmt: skip


def told(owner):
    """What the owner was sent: e-mails, and in-app notifications."""
    return (
        [m for m in mail.outbox if owner.email in m.to],
        list(Notification.objects.filter(recipient=owner, channel=Channel.IN_APP)),
    )


def test_the_old_notice_task_is_no_longer_scheduled():
    assert not PeriodicTask.objects.filter(task="vendors.tasks.contract_renewal_notices").exists()


def test_every_scheduled_task_tells_the_owner_once_per_term_linking_to_the_renewal(owner, contract):
    run_every_scheduled_task(BEFORE_THE_LEAD_TIME)
    assert told(owner) == ([], [])
    for day in [FIRST_DAY, *LATER_DAYS]:
        run_every_scheduled_task(day)
    renewal_request = Renewal.objects.get(contract=contract).request
    emails, in_app = told(owner)
    assert len(emails) == 1
    assert len(in_app) == 1
    assert emails[0].subject == "Renewal to decide: Figma Enterprise with Figma"
    assert renewal_request.get_absolute_url() in emails[0].body
    assert in_app[0].url == renewal_request.get_absolute_url()
    assert contract.vendor.get_absolute_url() not in emails[0].body


def test_nothing_is_sent_to_the_owner_after_the_renewal_was_decided(owner, contract):
    run_every_scheduled_task(FIRST_DAY)
    assert [len(sent) for sent in told(owner)] == [1, 1]
    renewal_request = Renewal.objects.get(contract=contract).request
    workflow.withdraw_request(renewal_request, by=owner, reason="We let it end.")
    mail.outbox.clear()
    for day in LATER_DAYS:
        run_every_scheduled_task(day)
    emails, in_app = told(owner)
    assert emails == []
    assert len(in_app) == 1  # the one from before the decision


def test_the_next_term_is_a_notice_of_its_own(owner, contract):
    run_every_scheduled_task(FIRST_DAY)
    contract.ends_on = date(2028, 3, 3)
    contract.save()
    run_every_scheduled_task(date(2027, 11, 20))
    emails, in_app = told(owner)
    assert len(emails) == 2
    assert len(in_app) == 2
    assert len({n.url for n in in_app}) == 2  # each links to its own term's renewal request
