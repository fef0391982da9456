"""The daily digest (SPEC §4, issue #28 item 2): a person who chose it gets ONE e-mail a day
listing the new items of those kinds, grouped, with links, and none per item; exactly once
however often the task runs; none when there is nothing; a person with "at once" still gets
each notice by itself."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django_celery_beat.models import PeriodicTask

from approvals import services as approval_services
from approvals import workflow
from notifications import services
from notifications.models import Delivery, Digest, Kind, Notification
from notifications.tasks import deliver_pending, send_digests
from tests.factories import PurchaseRequestFactory

pytestmark = pytest.mark.django_db

UTC = ZoneInfo("UTC")
MONDAY_9 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # 07:00 has passed in UTC


def submit(requester, title):
    return workflow.submit_request(
        PurchaseRequestFactory(requester=requester, title=title), by=requester
    )


def run_digests_at(moment):
    """The hourly task, then the outbox's delivery, as the worker runs them."""
    with time_machine.travel(moment, tick=False):
        written = send_digests()
        deliver_pending()
    return written


def emails_to(user):
    return [m for m in mail.outbox if m.to == [user.email]]


@pytest.fixture
def three_new_items(requester, it_reviewer, procurement, django_capture_on_commit_callbacks):
    """Three requests submitted on Monday morning: three steps open for each group."""
    with (
        time_machine.travel(MONDAY_9 - timedelta(hours=2), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        return [submit(requester, f"Laptops batch {n}") for n in range(1, 4)]


def test_one_email_a_day_lists_the_new_items_and_none_per_item(three_new_items, it_reviewer):
    assert emails_to(it_reviewer) == []  # nothing per item: the digest is the default
    assert run_digests_at(MONDAY_9) >= 1
    (digest,) = emails_to(it_reviewer)
    assert digest.subject == "Tandem digest for 2 Mar 2026: 3 new items"
    assert "My group's new items (3)" in digest.body
    for purchase_request in three_new_items:
        assert purchase_request.title in digest.body
        assert f"http://127.0.0.1:8000{purchase_request.get_absolute_url()}#steps" in digest.body
    html = digest.alternatives[0][0]
    assert f'href="http://127.0.0.1:8000{three_new_items[0].get_absolute_url()}#steps"' in html
    # The items are covered by it: still in the app, within the window it covered, which the
    # next digest starts after.
    notices = services.notices_of(it_reviewer)
    assert notices.count() == 3
    covered = Digest.objects.get(user=it_reviewer)
    assert (covered.day, covered.items) == (MONDAY_9.date(), 3)
    assert all(covered.since < n.created_at <= covered.until for n in notices)


def test_the_task_running_twice_sends_one_digest(three_new_items, it_reviewer):
    assert run_digests_at(MONDAY_9) == 2  # the IT reviewer and procurement
    assert run_digests_at(MONDAY_9) == 0
    assert run_digests_at(MONDAY_9 + timedelta(hours=5)) == 0
    assert len(emails_to(it_reviewer)) == 1
    assert Digest.objects.filter(user=it_reviewer).count() == 1


def test_the_next_day_lists_only_what_came_since(
    three_new_items, requester, it_reviewer, django_capture_on_commit_callbacks
):
    run_digests_at(MONDAY_9)
    with (
        time_machine.travel(MONDAY_9 + timedelta(hours=3), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        later = submit(requester, "Monitors for finance")
    assert run_digests_at(MONDAY_9 + timedelta(hours=4)) == 0  # one a day
    assert run_digests_at(MONDAY_9 + timedelta(days=1)) == 2
    first, second = emails_to(it_reviewer)
    assert "1 new item" in second.subject and later.title in second.body
    assert all(r.title not in second.body for r in three_new_items)


def test_none_before_the_digest_hour_of_the_persons_own_day(three_new_items, it_reviewer):
    it_reviewer.time_zone = "America/New_York"  # 09:00 UTC is 04:00 there
    it_reviewer.save()
    run_digests_at(MONDAY_9)
    assert emails_to(it_reviewer) == []
    run_digests_at(MONDAY_9 + timedelta(hours=3))  # 07:00 in New York
    (digest,) = emails_to(it_reviewer)
    assert "3 new items" in digest.subject


def test_no_email_when_there_is_nothing(it_reviewer, requester):
    assert run_digests_at(MONDAY_9) == 0
    assert mail.outbox == [] and not Digest.objects.exists()


def test_items_settled_meanwhile_are_not_listed(
    three_new_items, it_reviewer, procurement, django_capture_on_commit_callbacks
):
    with time_machine.travel(MONDAY_9 - timedelta(hours=1), tick=False):
        step = three_new_items[0].steps.get(side="it")
        approval_services.decide_step(step, by=it_reviewer, decision="approve")
    run_digests_at(MONDAY_9)
    (digest,) = emails_to(it_reviewer)
    assert "2 new items" in digest.subject
    assert three_new_items[0].title not in digest.body
    assert "1 more was settled by a colleague meanwhile" in digest.body


def test_a_person_with_at_once_still_gets_each_and_no_digest(
    requester, it_reviewer, procurement, django_capture_on_commit_callbacks
):
    services.set_preferences(it_reviewer, {Kind.GROUP: Delivery.AT_ONCE})
    with (
        time_machine.travel(MONDAY_9 - timedelta(hours=2), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        for n in (1, 2):
            submit(requester, f"Docking stations {n}")
    assert [m.subject.startswith("For your decision") for m in emails_to(it_reviewer)] == [
        True,
        True,
    ]
    run_digests_at(MONDAY_9)
    assert len(emails_to(it_reviewer)) == 2  # no digest on top
    assert len(emails_to(procurement)) == 1  # procurement kept the digest
    assert emails_to(procurement)[0].subject.startswith("Tandem digest")


def test_the_digest_groups_every_kind_chosen_for_it(requester, django_capture_on_commit_callbacks):
    services.set_preferences(
        requester, {Kind.OUTCOMES: Delivery.DIGEST, Kind.REMINDERS: Delivery.DIGEST}
    )
    with time_machine.travel(MONDAY_9 - timedelta(hours=1), tick=False):
        for kind, key in ((Kind.OUTCOMES, "o1"), (Kind.REMINDERS, "r1"), (Kind.OUTCOMES, "o2")):
            services.notify(
                [requester], subject=f"Notice {key}", lines=[f"About {key}"], action="Open",
                url=f"/requests/{key}/", dedupe_key=key, kind=kind,
            )  # fmt: skip
    run_digests_at(MONDAY_9)
    (digest,) = emails_to(requester)
    body = digest.body
    assert body.index("Reminders (1)") < body.index("Outcomes of my requests (2)")
    assert body.index("Notice o1") < body.index("Notice o2")


def test_a_failed_digest_email_is_retried_not_sent_again(three_new_items, it_reviewer, settings):
    settings.EMAIL_BACKEND = "tests.notifications.failing_backend.EmailBackend"
    run_digests_at(MONDAY_9)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert run_digests_at(MONDAY_9 + timedelta(minutes=5)) == 0  # the claim holds
    assert len(emails_to(it_reviewer)) == 1  # the outbox retried the one e-mail


def test_beat_runs_the_digest_every_hour():
    task = PeriodicTask.objects.get(task="notifications.tasks.send_digests")
    assert (task.crontab.minute, task.crontab.hour, task.enabled) == ("15", "*", True)


def test_a_kind_switched_off_since_is_left_out(three_new_items, it_reviewer, procurement):
    services.set_preferences(it_reviewer, {Kind.GROUP: Delivery.OFF})
    run_digests_at(MONDAY_9)
    assert emails_to(it_reviewer) == []
    assert len(emails_to(procurement)) == 1  # the run did go


def test_a_personal_notice_switched_off_since_is_left_out(requester):
    services.set_preferences(requester, {Kind.OUTCOMES: Delivery.DIGEST})
    with time_machine.travel(MONDAY_9 - timedelta(hours=1), tick=False):
        services.notify(
            [requester], subject="Approved", lines=["Approved"], action="Open",
            url="/requests/1/", dedupe_key="o1", kind=Kind.OUTCOMES,
        )  # fmt: skip
    services.set_preferences(requester, {Kind.OUTCOMES: Delivery.OFF})
    run_digests_at(MONDAY_9)
    assert emails_to(requester) == []
    assert not Notification.objects.filter(recipient=requester, awaits_digest=True).exists()
