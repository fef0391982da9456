"""The reminder sweep with frozen time (SPEC §4): exactly the expected reminders and
escalations, each once, delivered by e-mail and in the app."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.urls import set_script_prefix
from django.utils import timezone

from approvals import workflow
from approvals.models import StepAlert
from approvals.reminders import _link, sweep_due_steps
from approvals.services import decide_step
from notifications.models import Channel, Notification
from tests.factories import PurchaseRequestFactory, UserFactory, VendorFactory

pytestmark = pytest.mark.django_db

START = timezone.now().replace(microsecond=0)


@pytest.fixture
def in_review(requester, it_reviewer, procurement, cio, cpo, django_capture_on_commit_callbacks):
    """A request submitted at START: default steps, SLA 48 h, repeat 24 h, escalate after 96 h."""

    with time_machine.travel(START, tick=False), django_capture_on_commit_callbacks(execute=True):
        return workflow.submit_request(PurchaseRequestFactory(requester=requester), by=requester)


def sweep_at(hours, capture):
    with time_machine.travel(START + timedelta(hours=hours), tick=False), capture(execute=True):
        return sweep_due_steps()


def alerts():
    return sorted(StepAlert.objects.values_list("step__side", "kind", "sequence"))


def subjects(to):
    return [m.subject for m in mail.outbox if to in m.to]


def test_nothing_before_the_sla_runs_out(in_review, django_capture_on_commit_callbacks):
    assert sweep_at(47, django_capture_on_commit_callbacks) == 0
    assert alerts() == []


def test_reminders_at_due_time_then_every_repeat_then_escalation(
    in_review, it_reviewer, cio, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    mail.outbox.clear()
    assert sweep_at(48, capture) == 2  # one reminder per side
    assert sweep_at(49, capture) == 0  # nothing new an hour later
    assert sweep_at(72, capture) == 2  # the repeat, 24 h later
    assert sweep_at(96, capture) == 4  # third reminder and the escalation, per side
    assert alerts() == [
        ("it", "escalation", 0),
        ("it", "reminder", 0),
        ("it", "reminder", 1),
        ("it", "reminder", 2),
        ("procurement", "escalation", 0),
        ("procurement", "reminder", 0),
        ("procurement", "reminder", 1),
        ("procurement", "reminder", 2),
    ]
    reminders = [s for s in subjects(it_reviewer.email) if s.startswith("Reminder:")]
    assert len(reminders) == 3
    assert [s for s in subjects(cio.email) if s.startswith("Escalated:")] == [
        f"Escalated: {in_review.number} {in_review.title} is overdue"
    ]
    step = in_review.steps.get(side="it")
    assert step.escalated_at is not None
    assert step.state == "open"  # still decidable by its group


def test_a_late_sweep_sends_one_reminder_not_a_burst(in_review, django_capture_on_commit_callbacks):
    assert sweep_at(90, django_capture_on_commit_callbacks) == 2
    assert alerts() == [("it", "reminder", 1), ("procurement", "reminder", 1)]


def test_a_decided_step_is_not_reminded(in_review, it_reviewer, django_capture_on_commit_callbacks):
    decide_step(in_review.steps.get(side="it"), by=it_reviewer, decision="approve")
    sweep_at(100, django_capture_on_commit_callbacks)
    assert {side for side, _, _ in alerts()} == {"procurement"}


def test_running_the_sweep_twice_records_nothing_twice(
    in_review, django_capture_on_commit_callbacks
):
    sweep_at(96, django_capture_on_commit_callbacks)
    before = (StepAlert.objects.count(), Notification.objects.count())
    # As if a retried task or a second beat ran it again at the same moment.
    from approvals.models import ApprovalStep

    ApprovalStep.objects.update(next_alert_at=START)
    assert sweep_at(96, django_capture_on_commit_callbacks) == 0
    assert (StepAlert.objects.count(), Notification.objects.count()) == before


def test_the_reminder_links_to_the_page_where_the_reader_acts(
    in_review, it_reviewer, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    sweep_at(48, django_capture_on_commit_callbacks)
    message = next(m for m in mail.outbox if it_reviewer.email in m.to)
    link = f"http://127.0.0.1:8000/requests/{in_review.pk}/#steps"
    assert link in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and link in html


def test_the_reviewer_sees_the_reminder_in_the_app(
    client, in_review, it_reviewer, django_capture_on_commit_callbacks
):
    sweep_at(48, django_capture_on_commit_callbacks)
    client.force_login(it_reviewer)
    page = client.get("/notifications/").content.decode()
    assert f"Reminder: {in_review.number}" in page
    assert 'id="unread-count">2<' in client.get("/requests/").content.decode()  # opened + reminder
    client.post("/notifications/read/")
    assert (
        Notification.objects.filter(
            recipient=it_reviewer, channel=Channel.IN_APP, read_at__isnull=True
        ).count()
        == 0
    )


def test_only_due_steps_are_read(in_review, django_assert_num_queries):
    """A step far from due costs nothing: the sweep's select finds no row."""
    with time_machine.travel(START + timedelta(hours=1), tick=False), django_assert_num_queries(1):
        assert sweep_due_steps() == 0


def test_a_user_step_escalates_to_the_named_user(requester, django_capture_on_commit_callbacks):
    from approvals.models import ApprovalRule

    boss = UserFactory(username="boss")
    reviewer = UserFactory(username="named-reviewer")
    ApprovalRule.objects.create(
        name="Named", reviewer_user=reviewer, side="it", sla_hours=1, escalate_after_hours=2,
        escalation_user=boss,
    )  # fmt: skip
    with time_machine.travel(START, tick=False):
        workflow.submit_request(PurchaseRequestFactory(requester=requester), by=requester)
    mail.outbox.clear()
    sweep_at(2, django_capture_on_commit_callbacks)
    assert any(m.subject.startswith("Escalated:") and boss.email in m.to for m in mail.outbox)
    assert any(m.subject.startswith("Reminder:") and reviewer.email in m.to for m in mail.outbox)


def test_a_reminder_links_where_the_request_and_the_vendor_link(in_review):
    vendor = VendorFactory()
    assert _link(in_review) == in_review.get_absolute_url()
    assert _link(vendor) == vendor.get_absolute_url()
    set_script_prefix("/tandem/")  # reverse reads the script prefix at each call
    try:
        assert _link(in_review) == in_review.get_absolute_url()
        assert _link(in_review).startswith("/tandem/")
    finally:
        set_script_prefix("/")


def test_open_steps_enter_no_index_no_query_needs():
    """Every index takes each rescheduled step's `next_alert_at`: no foreign key of the step
    table has an index of its own where a wider one serves (request, vendor) or only a rule's
    deletion needs one; deciders and escalation targets, looked up when a user or group is
    deleted, have partial indexes of the steps that name one, which open steps do not enter."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "approvals_approvalstep")
    single = {
        c["columns"][0] for c in constraints.values() if c["index"] and len(c["columns"]) == 1
    }
    assert single.isdisjoint({"request_id", "vendor_id", "rule_id"})
    assert {"group_id", "user_id", "carried_from_id", "clock_resumed_from_id"} <= single
    partial = {"decided_by_id", "decided_for_id", "escalation_user_id", "escalation_group_id"}
    assert {f"steps_by_{column[:-3]}" for column in partial} <= set(constraints)
