"""Alerts reach a person when the thing that sends mail is down (issue 30): beat's own check
e-mails the admins straight through the mail server, with no Celery worker and nothing left in
the outbox, exactly once (the alert's row is claimed, sent, marked); a failed send is tried again
at the next check; and TANDEM_ALERT_WEBHOOK_URL hears of each alert once, even when the mail
server is down."""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from celery import current_app
from django.core import mail
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from core import heartbeats
from notifications.models import Channel, Notification, Status
from operations import alerts
from operations.alerts import mail_admins, raise_alerts
from operations.models import Alert, AlertKind
from operations.scheduler import HeartbeatScheduler
from tests.factories import UserFactory
from tests.operations.mail_backends import SecondCheckMidSend

FAILING = "tests.notifications.failing_backend.EmailBackend"
LOCMEM = "django.core.mail.backends.locmem.EmailBackend"
SWEEP_STOPPED = "Tandem: the reminder sweep has stopped"


@pytest.fixture
def admin(db):
    return UserFactory(username="ada", is_staff=True, is_superuser=True)


@pytest.fixture
def worker_down():
    """No worker: tasks are published to the broker (in memory) and nothing ever runs them, so
    anything that went through Celery would never be delivered."""
    previous = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = False
    yield
    current_app.conf.task_always_eager = previous


@pytest.fixture
def sweep_stopped():
    """The worker died an hour ago: the sweep it runs every 5 minutes has not completed since."""
    heartbeats.record(heartbeats.SWEEP, at=timezone.now() - timedelta(hours=1))


@pytest.fixture
def beat(monkeypatch):
    """Beat's own scheduler, checking the alerts at every tick (every minute in production).
    Its periodic tasks are disabled: beat would publish them to a broker no worker reads."""
    PeriodicTask.objects.update(enabled=False)
    monkeypatch.setattr("operations.scheduler.ALERTS_EVERY", 0)
    return HeartbeatScheduler(app=current_app)


def _waiting_in_the_outbox():
    return Notification.objects.filter(
        status__in=[Status.PENDING, Status.SENDING, Status.FAILED]
    ).count()


# Beat's database scheduler closes and reopens its connections as beat does: these tests run
# outside a wrapping transaction, so what they write is committed and its on-commit work runs.
@pytest.mark.django_db(transaction=True)
def test_with_no_worker_beat_mails_the_sweep_alert_itself_once_over_two_ticks(
    admin, worker_down, sweep_stopped, beat
):
    beat.tick()
    beat.tick()

    [sent] = mail.outbox
    assert sent.to == [admin.email]
    assert sent.subject == SWEEP_STOPPED
    assert "Check that the Celery worker and beat are running" in sent.body
    assert _waiting_in_the_outbox() == 0
    # The bell notice is there too, delivered by being written.
    assert (
        Notification.objects.filter(
            recipient=admin, channel=Channel.IN_APP, subject=SWEEP_STOPPED, status=Status.SENT
        ).count()
        == 1
    )
    alert = Alert.objects.get()
    assert alert.kind == AlertKind.SWEEP_STALE
    assert alert.mailed_at is not None
    assert alert.attempts == 1


@pytest.mark.django_db(transaction=True)
def test_a_failed_send_is_tried_again_at_the_next_tick_and_then_sent_once(
    admin, worker_down, sweep_stopped, beat, settings, client
):
    settings.EMAIL_BACKEND = FAILING
    beat.tick()
    assert mail.outbox == []
    alert = Alert.objects.get()
    assert alert.mailed_at is None
    assert alert.claimed_at is None  # released for the next check
    assert alert.attempts == 1
    assert "SMTP server unreachable" in alert.last_error
    # The operations page says so; the failure is no alert of its own, nor an outbox row.
    client.force_login(admin)
    page = client.get("/operations/").content.decode()
    assert "E-mail not sent yet (1 try): ConnectionRefusedError: SMTP server unreachable" in page
    beat.tick()
    assert Alert.objects.count() == 1
    assert _waiting_in_the_outbox() == 0

    settings.EMAIL_BACKEND = LOCMEM
    beat.tick()
    beat.tick()
    [sent] = mail.outbox
    assert sent.subject == SWEEP_STOPPED
    alert.refresh_from_db()
    assert alert.mailed_at is not None
    assert alert.attempts == 3
    assert alert.last_error == ""
    assert "E-mail not sent yet" not in client.get("/operations/").content.decode()


def test_a_second_check_while_the_first_is_sending_sends_nothing(admin, sweep_stopped, settings):
    settings.EMAIL_BACKEND = "tests.operations.mail_backends.SecondCheckMidSend"
    SecondCheckMidSend.second_check_mailed = None
    raise_alerts()
    assert SecondCheckMidSend.second_check_mailed == 0
    assert len(mail.outbox) == 1
    assert mail_admins() == 0
    assert len(mail.outbox) == 1


def test_of_two_checks_that_read_the_alert_at_once_only_one_claims_it(
    admin, sweep_stopped, settings
):
    settings.EMAIL_BACKEND = FAILING
    raise_alerts()  # raised, its e-mail failed: due again at the next check
    first, second = Alert.objects.get(), Alert.objects.get()  # both read it, unclaimed
    now = timezone.now()
    assert alerts._claim(first, now) is True
    assert alerts._claim(second, now) is False


def test_an_e_mail_whose_beat_died_mid_send_is_sent_after_the_claim_times_out(
    admin, sweep_stopped, settings
):
    """Beat killed while the mail server was answering: its claim stays. Nobody else sends the
    e-mail until the claim is older than CLAIM_TIMEOUT, then the next check does, once."""
    settings.EMAIL_BACKEND = "tests.operations.mail_backends.KilledMidSend"
    started = timezone.now()
    with time_machine.travel(started, tick=False), pytest.raises(SystemExit):
        raise_alerts()
    assert Alert.objects.get().claimed_at == started

    settings.EMAIL_BACKEND = LOCMEM
    with time_machine.travel(started + alerts.CLAIM_TIMEOUT - timedelta(minutes=1), tick=False):
        assert mail_admins() == 0
    with time_machine.travel(started + alerts.CLAIM_TIMEOUT + timedelta(minutes=1), tick=False):
        assert mail_admins() == 1
        assert mail_admins() == 0
    assert [m.subject for m in mail.outbox] == [SWEEP_STOPPED]


class _Receiver:
    """A webhook endpoint on 127.0.0.1 that keeps what it was sent and answers `status`."""

    def __init__(self, status=200):
        self.received = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((self.headers["Content-Type"], json.loads(body)))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/services/T0/B0/secret"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = _Receiver()
    yield server
    server.stop()


def test_the_webhook_hears_of_an_alert_once_even_while_the_mail_server_is_down(
    admin, sweep_stopped, settings, receiver
):
    settings.TANDEM_ALERT_WEBHOOK_URL = receiver.url
    settings.EMAIL_BACKEND = FAILING
    raise_alerts()
    [(content_type, payload)] = receiver.received
    assert content_type == "application/json"
    assert list(payload) == ["text"]
    assert payload["text"].startswith(f"{SWEEP_STOPPED}\nNo reminder sweep has completed since")
    assert payload["text"].endswith("/operations/")
    assert mail.outbox == []

    # The e-mail is retried; the webhook, which already heard of it, is not posted again.
    settings.EMAIL_BACKEND = LOCMEM
    raise_alerts()
    raise_alerts()
    assert len(mail.outbox) == 1
    assert len(receiver.received) == 1


@pytest.mark.parametrize("answer", [500, None], ids=["answers 500", "unreachable"])
def test_a_webhook_that_fails_is_logged_and_stops_nothing(
    admin, sweep_stopped, settings, caplog, answer
):
    receiver = _Receiver(status=answer or 200)
    settings.TANDEM_ALERT_WEBHOOK_URL = receiver.url
    if answer is None:
        receiver.stop()  # nothing listens on its port any more
    try:
        raise_alerts()
        raise_alerts()
    finally:
        if answer is not None:
            receiver.stop()
    assert len(receiver.received) == (1 if answer else 0)  # tried once, not at every check
    assert "the alert webhook could not be reached" in caplog.text
    assert "secret" not in caplog.text  # the URL (a Slack webhook's is a secret) is not logged
    [sent] = mail.outbox
    assert sent.subject == SWEEP_STOPPED
