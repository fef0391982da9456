"""The outbox (SPEC §4): written with its cause, delivered after commit, retried, never lost."""

from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from threading import Thread

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from django.utils import timezone

from notifications import services
from notifications.models import Channel, Notification, Status
from notifications.tasks import deliver_pending

pytestmark = pytest.mark.django_db


def send(recipient, key="cause-1"):
    return services.notify(
        [recipient],
        subject="Hello",
        lines=["Line"],
        action="Open",
        url="/requests/",
        dedupe_key=key,
        kind="outcomes",
    )


def email_of(recipient):
    return Notification.objects.get(recipient=recipient, channel=Channel.EMAIL)


def test_delivered_after_commit_with_a_link(requester, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        send(requester)
    assert email_of(requester).status == Status.SENT
    assert "http://127.0.0.1:8000/requests/" in mail.outbox[0].body


def test_nothing_is_written_when_the_cause_rolls_back(requester):
    with pytest.raises(RuntimeError), transaction.atomic():
        send(requester)
        raise RuntimeError("the cause failed")
    assert not Notification.objects.exists()


def test_the_same_cause_notifies_once(requester):
    send(requester)
    send(requester)
    assert Notification.objects.filter(recipient=requester).count() == 2  # e-mail + in-app


def test_failed_email_is_retried_with_backoff_and_not_lost(requester, settings):
    send(requester)
    notification = email_of(requester)
    settings.EMAIL_BACKEND = "tests.notifications.failing_backend.EmailBackend"
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        assert services.deliver(notification.pk) is False
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (Status.FAILED, 1)
    assert "SMTP server unreachable" in notification.last_error
    assert notification.next_attempt_at == now + timedelta(minutes=1)
    # Before the backoff ends nothing is retried; after it, delivery works again.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with time_machine.travel(now + timedelta(seconds=30), tick=False):
        assert deliver_pending() == 0
    with time_machine.travel(now + timedelta(minutes=2), tick=False):
        assert deliver_pending() == 1
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (Status.SENT, 2)
    assert len(mail.outbox) == 1


def test_a_claimed_notification_is_not_sent_twice(requester):
    send(requester)
    notification = email_of(requester)
    assert services.deliver(notification.pk) is True
    assert services.deliver(notification.pk) is False
    assert len(mail.outbox) == 1


def test_a_delivery_whose_worker_died_is_taken_up_again(requester):
    send(requester)
    notification = email_of(requester)
    long_ago = timezone.now() - services.CLAIM_TIMEOUT - timedelta(minutes=1)
    Notification.objects.filter(pk=notification.pk).update(
        status=Status.SENDING, claimed_at=long_ago
    )
    assert deliver_pending() == 1
    assert len(mail.outbox) == 1


def test_broker_down_keeps_notifications_pending(
    requester, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    from settings.celery import app

    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens there
    app.conf.broker_connection_retry = False
    app.conf.broker_connection_max_retries = 0
    try:
        with django_capture_on_commit_callbacks(execute=True):
            send(requester)  # must not raise
    finally:
        app.conf.broker_url = "memory://"
    assert email_of(requester).status == Status.PENDING
    assert deliver_pending() == 1  # the periodic sweep sends it once the broker is back


class _Webhook(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 - http.server's name
        self.received.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(500 if len(self.received) == 1 else 200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_webhook_failure_is_retried_and_blocks_nothing(
    requester, settings, django_capture_on_commit_callbacks
):
    server = HTTPServer(("127.0.0.1", 0), _Webhook)
    Thread(target=server.serve_forever, daemon=True).start()
    settings.TANDEM_WEBHOOK_URL = f"http://127.0.0.1:{server.server_port}/hook"
    try:
        with django_capture_on_commit_callbacks(execute=True):
            send(requester)
        webhook = Notification.objects.get(channel=Channel.WEBHOOK)
        assert email_of(requester).status == Status.SENT  # the e-mail went out regardless
        webhook.refresh_from_db()
        assert webhook.status == Status.FAILED
        Notification.objects.filter(pk=webhook.pk).update(next_attempt_at=timezone.now())
        assert deliver_pending() == 1
        webhook.refresh_from_db()
        assert webhook.status == Status.SENT
        assert b"Hello" in _Webhook.received[-1]
    finally:
        server.shutdown()


def test_a_chunk_is_sent_over_one_connection_and_one_refusal_fails_only_its_row(settings):
    from tests.factories import UserFactory
    from tests.notifications.failing_backend import CountingBackend

    people = [UserFactory(email=f"person{n}@example.com") for n in range(4)]
    people.append(UserFactory(email=CountingBackend.REFUSED))
    for person in people:
        send(person)
    settings.EMAIL_BACKEND = "tests.notifications.failing_backend.CountingBackend"
    CountingBackend.opened, CountingBackend.sent = 0, []
    ids = list(Notification.objects.filter(channel=Channel.EMAIL).values_list("pk", flat=True))

    assert services.deliver_many(ids) == 4
    assert CountingBackend.opened == 1
    assert len(CountingBackend.sent) == 4
    refused = Notification.objects.get(channel=Channel.EMAIL, recipient=people[-1])
    assert refused.status == Status.FAILED and "unavailable" in refused.last_error
    assert Notification.objects.filter(channel=Channel.EMAIL, status=Status.SENT).count() == 4
    assert services.deliver_many(ids) == 0  # sent ones are not sent again; the refused waits


# The reminder sweep's batches (`notify_batch`): e-mails rendered at delivery, the same e-mail.

BATCH_LINES = ["The IT step of PR-7 “Laptop <b>” from Rita was due yesterday.", "Why: > 5 seats."]


def batch_message(recipients, key, **fields):
    fields = {
        "subject": "Reminder: PR-7 Laptop <b> & co waits",
        "lines": BATCH_LINES,
        "action": "Decide now",
        "url": "/requests/7/#steps",
        "topic": "step:7",
        "kind": "reminders",
        **fields,
    }
    return services.Message(recipients, dedupe_key=key, **fields)


def delivered(recipient, key):
    """The e-mail the outbox row of `key` for `recipient` sends: subject, text, HTML."""
    mail.outbox.clear()
    row = Notification.objects.get(
        recipient=recipient, channel=Channel.EMAIL, dedupe_key__startswith=f"{key}:"
    )
    assert services.deliver(row.pk)
    (message,) = mail.outbox
    return message.subject, message.body, message.alternatives


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"lines": ["Two\nlines", "in one"]},
        {"subject": "Long " * 50},
        {"lines": []},
        {"amount": "1250.00 EUR"},
    ],
    ids=["rendered at delivery", "line break", "long subject", "no lines", "with its amount"],
)
def test_a_batch_sends_the_very_email_notify_sends(requester, it_reviewer, fields):
    services.notify_many([batch_message([requester, it_reviewer], "one-by-one", **fields)])
    written = services.notify_batch([batch_message([requester, it_reviewer], "batch", **fields)])
    assert written == 4  # e-mail and in-app for each
    for person in (requester, it_reviewer):
        batch = delivered(person, "batch")
        assert batch == delivered(person, "one-by-one")
        if "amount" in fields:  # at the top, under the subject and above the link
            assert batch[1].splitlines()[1:3] == [
                "Amount: 1,250.00 EUR",
                "Decide now: http://127.0.0.1:8000/requests/7/#steps",
            ]
    rows = Notification.objects.filter(dedupe_key__startswith="batch:")
    if not fields:  # the sweep's common case: the row keeps what renders it, not the bodies
        assert {(row.body, row.body_html, row.action) for row in rows} == {("", "", "Decide now")}
    inbox = rows.get(recipient=requester, channel=Channel.IN_APP)
    reference = Notification.objects.get(
        recipient=requester, channel=Channel.IN_APP, dedupe_key__startswith="one-by-one:"
    )
    assert (inbox.subject, inbox.summary, inbox.url, inbox.topic, inbox.status) == (
        reference.subject, reference.summary, reference.url, reference.topic, Status.SENT
    )  # fmt: skip


def test_a_batch_writes_each_cause_once_and_enqueues_only_what_is_sent(
    requester, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert services.notify_batch([batch_message([requester], "cause")]) == 2
        # Written already (by this batch or another run): skipped.
        assert services.notify_batch([batch_message([requester], "cause")]) == 0
    row = Notification.objects.get(recipient=requester, channel=Channel.EMAIL)
    assert row.status == Status.SENT and row.attempts == 1 and len(mail.outbox) == 1
