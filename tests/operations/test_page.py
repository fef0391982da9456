"""The operations page (admins only) and the beat heartbeat."""

from datetime import timedelta

import pytest
import time_machine
from celery import current_app
from django.core.management import CommandError, call_command
from django.utils import timezone

from core import heartbeats
from notifications.models import Channel, Notification, Status
from operations.models import Alert, AlertKind
from operations.scheduler import HeartbeatScheduler
from tests.factories import PurchaseRequestFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_only_admins_see_the_operations_page(client, requester, it_reviewer, admin_user):
    assert client.get("/operations/").status_code == 302  # to the sign-in page
    for user in (requester, it_reviewer):
        client.force_login(user)
        response = client.get("/operations/")
        assert response.status_code == 403
        assert client.post("/operations/notifications/1/retry/").status_code == 403
    client.force_login(admin_user)
    assert client.get("/operations/").status_code == 200


def test_the_page_shows_health_the_late_sweep_gave_up_notifications_and_alerts(client, admin_user):
    recipient = UserFactory(username="ivan", first_name="Ivan", last_name="Ito")
    Notification.objects.create(
        recipient=recipient, channel=Channel.EMAIL, subject="Reminder: PR-7 waits", body="b",
        url="/", status=Status.GAVE_UP, attempts=10, last_error="SMTPException: refused",
    )  # fmt: skip
    heartbeats.record(heartbeats.SWEEP, at=timezone.now() - timedelta(minutes=40))
    Alert.objects.create(
        kind=AlertKind.SWEEP_STALE, key="k", summary="No reminder sweep since noon.",
        raised_at=timezone.now(),
    )  # fmt: skip
    client.force_login(admin_user)
    page = client.get("/operations/").content.decode()
    assert "Database: working" in page
    assert "Task queue (Redis): working" in page
    assert "Late: no sweep has completed for more than 15 minutes" in page
    assert "Reminder: PR-7 waits" in page
    assert "Ivan Ito" in page
    assert "SMTPException: refused" in page
    assert "No reminder sweep since noon." in page
    assert 'href="/operations/"' in page  # in the menu


def test_the_page_runs_a_constant_number_of_queries(
    client, admin_user, django_assert_max_num_queries
):
    def add(n):
        for i in range(n):
            row = Notification.objects.create(
                recipient=UserFactory(), channel=Channel.EMAIL, subject=f"s{i}", body="b",
                url="/", status=Status.GAVE_UP,
            )  # fmt: skip
            Alert.objects.create(
                kind=AlertKind.GAVE_UP, key=f"gave-up:{row.pk}:0", summary="x",
                notification=row, raised_at=timezone.now(),
            )  # fmt: skip

    client.force_login(admin_user)
    add(1)
    with django_assert_max_num_queries(30) as few:
        assert client.get("/operations/").status_code == 200
    add(10)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get("/operations/").status_code == 200


def test_the_page_says_when_nothing_is_wrong(client, admin_user):
    heartbeats.record(heartbeats.SWEEP)
    client.force_login(admin_user)
    page = client.get("/operations/").content.decode()
    assert "On time." in page
    assert "None: every notification was delivered" in page
    assert "No alerts." in page


def test_the_page_says_whether_every_recorded_change_is_chained(client, admin_user, requester):
    from audit.sealer import SEAL_BOUND, seal_pending
    from intake import services

    client.force_login(admin_user)
    written = timezone.now()
    with time_machine.travel(written, tick=False):
        services.add_comment(PurchaseRequestFactory(requester=requester), by=requester, body="x")
        assert (
            "1 recorded change about to be chained." in client.get("/operations/").content.decode()
        )
    with time_machine.travel(written + SEAL_BOUND + timedelta(seconds=5), tick=False):
        page = client.get("/operations/").content.decode()
        assert "Late: 1 recorded change waiting since" in page
        assert "more than 1 minute." in page
        assert "the Celery worker (it takes the “audit” queue)" in page
    seal_pending()
    assert "Everything recorded is chained." in client.get("/operations/").content.decode()


def test_alerts_are_read_only_in_the_admin(client, admin_user):
    Alert.objects.create(kind=AlertKind.SWEEP_STALE, key="k", summary="x", raised_at=timezone.now())
    client.force_login(admin_user)
    response = client.get("/admin/operations/alert/")
    assert response.status_code == 200
    assert "Operations page" in response.content.decode()
    assert client.get("/admin/operations/alert/add/").status_code == 403


# Beat's database scheduler closes and reopens its connections as beat does: these tests run
# outside a wrapping transaction.
@pytest.mark.django_db(transaction=True)
def test_beat_records_a_heartbeat_and_check_beat_reads_it(admin_user, capsys):
    with pytest.raises(CommandError, match="beat has never recorded a heartbeat"):
        call_command("check_beat")

    scheduler = HeartbeatScheduler(app=current_app)
    started = timezone.now()
    with time_machine.travel(started, tick=False):
        scheduler.tick()
    assert heartbeats.last(heartbeats.BEAT) == started
    call_command("check_beat")
    assert "ok: last heartbeat" in capsys.readouterr().out

    with (
        time_machine.travel(started + timedelta(minutes=2), tick=False),
        pytest.raises(CommandError, match="beat's last heartbeat was 120s ago"),
    ):
        call_command("check_beat")


@pytest.mark.django_db(transaction=True)
def test_beat_raises_the_alerts_itself(admin_user):
    """No worker needed: a stopped worker would never run a scheduled check."""
    from django_celery_beat.models import PeriodicTask

    # Beat sends nothing in this test (a due sweep would run, in-process, and be on time).
    PeriodicTask.objects.update(enabled=False)
    heartbeats.record(heartbeats.SWEEP, at=timezone.now() - timedelta(hours=1))
    HeartbeatScheduler(app=current_app).tick()
    assert Alert.objects.filter(kind=AlertKind.SWEEP_STALE).count() == 1
