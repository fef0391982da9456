"""Alerts an admin sees (issue 20): notifications that gave up and a reminder sweep that has not
completed for three intervals appear on the operations page and reach the admins exactly once:
one e-mail to every admin, sent by the check itself (not through the outbox), and the bell.
Without a worker, through beat, and to the webhook: test_alerts_direct.py."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from core import heartbeats
from notifications import services as notification_services
from notifications.models import Channel, Notification, Status
from operations.alerts import raise_alerts
from operations.models import Alert, AlertKind
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admins(db):
    return [
        UserFactory(username="ada", is_staff=True, is_superuser=True),
        UserFactory(username="alan", is_staff=True, is_superuser=True),
    ]


def _alert_mails(subject_start="Tandem:"):
    return [m for m in mail.outbox if m.subject.startswith(subject_start)]


def _give_up(user, subject="Reminder: PR-1 waits", settings=None):
    """A real give-up: the SMTP server refuses every attempt until the last."""
    notification_services.notify(
        [user],
        subject=subject,
        lines=["x"],
        action="Open",
        url="/",
        dedupe_key=subject,
        kind="service",
    )
    row = Notification.objects.get(recipient=user, channel=Channel.EMAIL, subject=subject)
    settings.EMAIL_BACKEND = "tests.notifications.failing_backend.EmailBackend"
    now = timezone.now()
    for attempt in range(notification_services.MAX_ATTEMPTS):
        with time_machine.travel(now + timedelta(hours=2 * attempt), tick=False):
            notification_services.deliver(row.pk)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    row.refresh_from_db()
    assert row.status == Status.GAVE_UP
    return row


@pytest.fixture
def sweep_on_time():
    heartbeats.record(heartbeats.SWEEP)


def test_a_notification_that_gave_up_is_told_to_the_admins_once(
    admins, settings, django_capture_on_commit_callbacks, sweep_on_time
):
    row = _give_up(UserFactory(username="ivan"), settings=settings)
    mail.outbox.clear()
    settings.TANDEM_WEBHOOK_URL = "https://hooks.example.com/team"

    with django_capture_on_commit_callbacks(execute=True):
        raised = raise_alerts()
    assert [alert.kind for alert in raised] == [AlertKind.GAVE_UP]
    assert raised[0].notification == row
    [sent] = _alert_mails()
    assert sorted(sent.to) == sorted(a.email for a in admins)
    assert sent.subject == "Tandem: 1 notification(s) could not be delivered"
    assert "Reminder: PR-1 waits" in sent.body
    assert "/operations/" in sent.body
    assert "/operations/" in sent.alternatives[0].content
    # …and under the bell.
    bell = Notification.objects.filter(
        channel=Channel.IN_APP, recipient__in=admins, subject=sent.subject
    )
    assert bell.count() == 2
    assert set(bell.values_list("status", flat=True)) == {Status.SENT}
    # Nothing of it waits in the outbox for a worker: no e-mail row, no team-webhook row.
    assert not Notification.objects.filter(dedupe_key__startswith="ops-alert:").exclude(
        channel=Channel.IN_APP
    )
    alert = Alert.objects.get()
    assert alert.mailed_at is not None
    assert alert.attempts == 1

    # The next checks (beat runs one every minute) tell nobody again.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert raise_alerts() == []
        assert raise_alerts() == []
    assert _alert_mails() == []
    assert Alert.objects.count() == 1
    assert bell.count() == 2


def test_several_notifications_that_gave_up_make_one_mail(
    admins, settings, django_capture_on_commit_callbacks, sweep_on_time
):
    for n in range(3):
        _give_up(UserFactory(username=f"user{n}"), subject=f"Subject {n}", settings=settings)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert len(raise_alerts()) == 3
    [sent] = _alert_mails()
    assert sent.subject == "Tandem: 3 notification(s) could not be delivered"
    assert all(f"Subject {n}" in sent.body for n in range(3))


def test_an_admin_retries_a_notification_and_a_new_give_up_alerts_again(
    client, admins, settings, django_capture_on_commit_callbacks, sweep_on_time
):
    row = _give_up(UserFactory(username="ivan"), settings=settings)
    with django_capture_on_commit_callbacks(execute=True):
        raise_alerts()
    client.force_login(admins[0])

    settings.EMAIL_BACKEND = "tests.notifications.failing_backend.EmailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/operations/notifications/{row.pk}/retry/", follow=True)
    assert response.status_code == 200
    assert "is queued for delivery again" in response.content.decode()
    row.refresh_from_db()
    assert row.status == Status.FAILED  # delivered at once, failed again: retried later
    assert row.attempts == 1
    assert Alert.objects.get().resolved_at is not None

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    Notification.objects.filter(pk=row.pk).update(status=Status.GAVE_UP)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert len(raise_alerts()) == 1
    [sent] = _alert_mails()
    assert sorted(sent.to) == sorted(a.email for a in admins)
    assert Alert.objects.count() == 2


def test_retrying_a_notification_that_had_not_given_up_changes_nothing(client, admins):
    user = UserFactory(username="ivan")
    notification_services.notify(
        [user], subject="s", lines=[], action="a", url="/", dedupe_key="k", kind="service"
    )
    row = Notification.objects.get(recipient=user, channel=Channel.EMAIL)
    client.force_login(admins[0])
    response = client.post(f"/operations/notifications/{row.pk}/retry/", follow=True)
    assert "was not waiting for a retry" in response.content.decode()
    assert client.post("/operations/notifications/999999/retry/").status_code == 404
    assert client.get(f"/operations/notifications/{row.pk}/retry/").status_code == 405


def test_a_sweep_late_by_three_intervals_is_told_once_and_resolved_when_it_runs(
    admins, django_capture_on_commit_callbacks
):
    swept = timezone.now()
    heartbeats.record(heartbeats.SWEEP, at=swept)

    # Two intervals late (the sweep runs every 5 minutes): nothing yet.
    with time_machine.travel(swept + timedelta(minutes=14), tick=False):
        assert raise_alerts() == []

    with (
        time_machine.travel(swept + timedelta(minutes=16), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        raised = raise_alerts()
    assert [alert.kind for alert in raised] == [AlertKind.SWEEP_STALE]
    [sent] = _alert_mails("Tandem: the reminder sweep has stopped")
    assert sorted(sent.to) == sorted(a.email for a in admins)
    assert "No reminder sweep has completed since" in sent.body
    assert "Check that the Celery worker and beat are running" in sent.body

    # Still stopped an hour later: no second mail.
    mail.outbox.clear()
    with (
        time_machine.travel(swept + timedelta(minutes=76), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert raise_alerts() == []
    assert _alert_mails() == []

    # It runs again: the alert is resolved. A later outage is a new alert.
    restarted = swept + timedelta(minutes=80)
    heartbeats.record(heartbeats.SWEEP, at=restarted)
    with time_machine.travel(restarted, tick=False):
        assert raise_alerts() == []
    assert Alert.objects.get().resolved_at is not None
    with (
        time_machine.travel(restarted + timedelta(minutes=16), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert len(raise_alerts()) == 1
    assert len(_alert_mails("Tandem: the reminder sweep has stopped")) == 1


def test_the_threshold_follows_the_interval_an_admin_set(admins):
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    hourly, _ = IntervalSchedule.objects.get_or_create(every=1, period="hours")
    PeriodicTask.objects.filter(task="approvals.tasks.sweep_reminders").update(interval=hourly)
    swept = timezone.now()
    heartbeats.record(heartbeats.SWEEP, at=swept)
    with time_machine.travel(swept + timedelta(hours=2, minutes=59), tick=False):
        assert raise_alerts() == []
    with time_machine.travel(swept + timedelta(hours=3, minutes=1), tick=False):
        assert [a.kind for a in raise_alerts()] == [AlertKind.SWEEP_STALE]


def test_a_sweep_that_never_ran_is_late_three_intervals_after_its_schedule(admins):
    from django_celery_beat.models import PeriodicTask

    scheduled = PeriodicTask.objects.get(task="approvals.tasks.sweep_reminders").date_changed
    with time_machine.travel(scheduled + timedelta(minutes=14), tick=False):
        assert raise_alerts() == []
    with time_machine.travel(scheduled + timedelta(minutes=16), tick=False):
        [alert] = raise_alerts()
    assert alert.summary.startswith("No reminder sweep has completed (it should run every 5")


def test_check_alerts_command_raises_them(admins, capsys):
    from django.core.management import call_command

    heartbeats.record(heartbeats.SWEEP, at=timezone.now() - timedelta(hours=1))
    call_command("check_alerts")
    assert "1 alert(s) raised" in capsys.readouterr().out
    call_command("check_alerts")
    assert "0 alert(s) raised" in capsys.readouterr().out
