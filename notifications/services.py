"""Writing notifications to the outbox and delivering them (SPEC §4).

Guarantee: a notification is recorded exactly once (its cause's transaction writes it, with a
unique dedupe key) and delivered at least once: a failed e-mail or webhook is retried with
backoff, and a delivery whose worker died is taken up again after CLAIM_TIMEOUT."""

import json
import logging
import urllib.request
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone

from core.tasks import enqueue_each
from core.validation import one_line

from . import hooks
from .models import Channel, Notification, Status

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
# A delivery claimed longer ago than this is taken to have died with its worker.
CLAIM_TIMEOUT = timedelta(seconds=settings.TANDEM_DELIVERY_CLAIM_TIMEOUT)


def absolute_url(path: str) -> str:
    return f"{settings.TANDEM_SITE_URL.rstrip('/')}{path}"


def notify(
    recipients,
    *,
    subject: str,
    lines: list[str],
    action: str,
    url: str,
    dedupe_key: str,
    topic: str = "",
    chat: bool = False,
):
    """Writes e-mail and in-app notifications for each recipient (and one webhook message when
    configured) in the caller's transaction, and enqueues their delivery after it commits.
    `dedupe_key` names the cause: the same cause never notifies the same person twice. Every
    message links to `url`, the page where the reader acts; `lines` say who did what and why
    (the inbox shows them too). `topic` names what the reader is asked to act on: `mark_done`
    settles every notification of a topic when somebody has acted on it. `chat`: also a direct
    message in the company chat (Slack), when a Slack app is configured."""
    return notify_many(
        [
            Message(
                recipients, subject=subject, lines=lines, action=action, url=url,
                dedupe_key=dedupe_key, topic=topic, chat=chat,
            )
        ]
    )  # fmt: skip


@dataclass
class Message:
    """One cause's notice, as `notify` takes it: for `notify_many`."""

    recipients: list
    subject: str
    lines: list[str]
    action: str
    url: str
    dedupe_key: str
    topic: str = ""
    chat: bool = False


def notify_many(messages: list[Message]) -> list[Notification]:
    """`notify` for many causes at once (the reminder sweep's batch): the rows of every message
    in one statement, their delivery enqueued after the caller's transaction commits. Same
    guarantees as `notify`: a dedupe key already written is skipped, never written twice."""
    rows = []
    for message in messages:
        rows.extend(_rows(message))
    created = _insert_new(rows)
    to_deliver = [row.pk for row in created if row.status == Status.PENDING]
    if to_deliver:
        transaction.on_commit(lambda: enqueue_delivery(to_deliver))
    return created


def _rows(message: Message) -> list[Notification]:
    # A subject is a header: whatever text it quotes (a title, a name, a comment), one line.
    subject = one_line(message.subject)
    url = message.url
    context = {
        "subject": subject, "lines": message.lines, "action": message.action,
        "url": absolute_url(url),
    }  # fmt: skip
    body = render_to_string("notifications/email/message.txt", context)
    body_html = render_to_string("notifications/email/message.html", context)
    rows = []
    now = timezone.now()
    slack = message.chat and settings.TANDEM_SLACK_BOT_TOKEN and Channel.SLACK in hooks.senders
    for user in {u.pk: u for u in message.recipients if u.is_active}.values():
        if user.email:
            rows.append(Notification(recipient=user, channel=Channel.EMAIL, body_html=body_html))
            if slack:
                rows.append(Notification(recipient=user, channel=Channel.SLACK))
        rows.append(
            Notification(recipient=user, channel=Channel.IN_APP, status=Status.SENT, sent_at=now)
        )
    if settings.TANDEM_WEBHOOK_URL:
        rows.append(Notification(recipient=None, channel=Channel.WEBHOOK))
    summary, topic = "\n".join(message.lines), message.topic[:100]
    for row in rows:
        row.subject, row.body, row.url = subject[:200], body, url
        row.summary, row.topic = summary, topic
        row.dedupe_key = f"{message.dedupe_key}:{row.channel}:{row.recipient_id or '-'}"[:200]
    return rows


def _insert_new(rows: list[Notification]) -> list[Notification]:
    """Writes the rows whose dedupe key is new, in one statement (the keys already notified are
    read first); returns them with their ids. Should another transaction write one of the same
    keys in between, the unique key refuses the statement and each row is written on its own,
    skipping the ones already there: never twice, never lost."""
    if not rows:
        return []
    existing = set(
        Notification.objects.filter(dedupe_key__in=[row.dedupe_key for row in rows]).values_list(
            "dedupe_key", flat=True
        )
    )
    new = [row for row in rows if row.dedupe_key not in existing]
    try:
        with transaction.atomic():
            return Notification.objects.bulk_create(new)
    except IntegrityError:
        pass
    created = []
    for row in new:
        row.pk = None
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError:
            continue  # notified for this cause meanwhile
        created.append(row)
    return created


def enqueue_delivery(notification_ids) -> None:
    """Hands the rows to Celery; with the broker down the periodic `deliver_pending` sends
    them later."""
    enqueue_each("notifications.tasks.deliver", notification_ids, what="notification")


def deliver(notification_id: int) -> bool:
    """Sends one notification if it is still to be sent; True when it was sent now. The row is
    claimed first, so two workers never both send it."""
    now = timezone.now()
    claimed = Notification.objects.filter(
        Q(status__in=[Status.PENDING, Status.FAILED], next_attempt_at__isnull=True)
        | Q(status__in=[Status.PENDING, Status.FAILED], next_attempt_at__lte=now)
        | Q(status=Status.SENDING, claimed_at__lt=now - CLAIM_TIMEOUT),
        pk=notification_id,
    ).update(status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if claimed != 1:
        return False
    notification = Notification.objects.select_related("recipient").get(pk=notification_id)
    try:
        _send(notification)
    except Exception as error:  # noqa: BLE001 - every failure is recorded and retried
        give_up = notification.attempts >= MAX_ATTEMPTS
        delay = timedelta(minutes=min(2 ** (notification.attempts - 1), 60))
        Notification.objects.filter(pk=notification.pk).update(
            status=Status.GAVE_UP if give_up else Status.FAILED,
            last_error=f"{type(error).__name__}: {error}"[:2000],
            next_attempt_at=None if give_up else now + delay,
        )
        logger.warning(
            "notification %s failed (attempt %s): %s", notification.pk, notification.attempts, error
        )
        return False
    Notification.objects.filter(pk=notification.pk).update(
        status=Status.SENT, sent_at=timezone.now(), last_error=""
    )
    logger.info(
        "notification %s sent (%s, attempt %s)",
        notification.pk,
        notification.channel,
        notification.attempts,
        extra={"notification_id": notification.pk, "user_id": notification.recipient_id},
    )
    return True


def _send(notification: Notification) -> None:
    if notification.channel == Channel.EMAIL:
        message = EmailMultiAlternatives(
            # Rows written before subjects were made one line are delivered too.
            subject=one_line(notification.subject),
            body=notification.body,
            to=[notification.recipient.email],
        )
        if notification.body_html:
            message.attach_alternative(notification.body_html, "text/html")
        for hook in hooks.email_hooks:
            hook(notification, message)
        message.send()
    elif notification.channel == Channel.WEBHOOK:
        payload = json.dumps({"text": f"{notification.subject}\n{absolute_url(notification.url)}"})
        request = urllib.request.Request(  # noqa: S310 - the admin-configured webhook URL
            settings.TANDEM_WEBHOOK_URL,
            data=payload.encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            if response.status >= 300:
                raise RuntimeError(f"webhook answered {response.status}")
    elif notification.channel in hooks.senders:
        hooks.senders[notification.channel](notification)
    else:
        raise RuntimeError(f"no sender for the {notification.channel} channel")


def undelivered_ids(now=None, limit: int = 500) -> list[int]:
    """Notifications due for a (re)try, for the periodic delivery sweep."""
    now = now or timezone.now()
    return list(
        Notification.objects.filter(
            Q(status=Status.PENDING)
            | Q(status=Status.FAILED, next_attempt_at__lte=now)
            | Q(status=Status.SENDING, claimed_at__lt=now - CLAIM_TIMEOUT)
        )
        .order_by("id")
        .values_list("pk", flat=True)[:limit]
    )


def unread_for(user):
    """The user's in-app notifications still to look at: not read, and not settled by anyone."""
    return Notification.objects.filter(
        recipient=user, channel=Channel.IN_APP, read_at__isnull=True, done_at__isnull=True
    )


def mark_read_for_page(user, path: str) -> int:
    """Opening a page reads the user's notifications that point to it (`path`, or an anchor or
    query of it), whether the reader came from the bell, an e-mail or anywhere else."""
    if not (user and user.is_authenticated):
        return 0
    return (
        Notification.objects.filter(recipient=user, channel=Channel.IN_APP, read_at__isnull=True)
        .filter(Q(url=path) | Q(url__startswith=f"{path}#") | Q(url__startswith=f"{path}?"))
        .update(read_at=timezone.now())
    )


def mark_done(topics, *, note: str = "") -> int:
    """Settles the in-app notifications of these topics for every recipient: somebody acted on
    what they asked for (e.g. a colleague decided the step), so they no longer wait on anyone."""
    topics = [t for t in topics if t]
    if not topics:
        return 0
    return Notification.objects.filter(
        topic__in=topics, channel=Channel.IN_APP, done_at__isnull=True
    ).update(done_at=timezone.now(), done_note=note[:200])


def mark_read(user, notification_ids=None) -> int:
    inbox = Notification.objects.filter(
        recipient=user, channel=Channel.IN_APP, read_at__isnull=True
    )
    if notification_ids is not None:
        inbox = inbox.filter(pk__in=notification_ids)
    return inbox.update(read_at=timezone.now())
