"""Alerts an admin sees (issue 20): notifications whose delivery gave up, and a reminder sweep
that has not completed for three of its intervals. Each appears on the operations page and is
told to the admins (e-mail and the bell, through the outbox) exactly once: its row has a unique
key naming the cause, inserted before anyone is told, in the same transaction as the
notifications that tell them.

`raise_alerts` runs inside Celery beat's process every minute (operations.scheduler), so a
stopped worker is noticed too, and `manage.py check_alerts` runs it by hand or from cron."""

import logging
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef
from django.utils import timezone

from notifications.models import Kind, Notification, Status
from notifications.services import enqueue_delivery, notify

from . import selectors
from .models import Alert, AlertKind

logger = logging.getLogger(__name__)

PAGE = "/operations/"
BATCH = 200


def admins():
    return list(get_user_model().objects.filter(is_active=True, is_superuser=True))


def raise_alerts(now: datetime | None = None) -> list[Alert]:
    """Records and tells what is new; returns the alerts this run raised."""
    now = now or timezone.now()
    raised = _gave_up_alerts(now)
    stale = _sweep_alert(now)
    if stale:
        raised.append(stale)
    return raised


def _insert(**fields) -> Alert | None:
    """The alert's row, or None when another run (or an earlier one) already raised it."""
    try:
        with transaction.atomic():
            return Alert.objects.create(**fields)
    except IntegrityError:
        return None


def _gave_up_alerts(now) -> list[Alert]:
    open_alert = Alert.objects.filter(
        kind=AlertKind.GAVE_UP, notification=OuterRef("pk"), resolved_at__isnull=True
    )
    candidates = list(
        Notification.objects.filter(status=Status.GAVE_UP)
        .exclude(dedupe_key__startswith=selectors.ALERT_DEDUPE_PREFIX)
        .filter(~Exists(open_alert))
        .order_by("id")[:BATCH]
    )
    if not candidates:
        return []
    earlier = dict(
        Alert.objects.filter(kind=AlertKind.GAVE_UP, notification__in=candidates)
        .values_list("notification")
        .annotate(n=Count("id"))
        .order_by()
    )
    raised = []
    with transaction.atomic():
        for notification in candidates:
            # A notification retried by an admin that gives up again is a new alert.
            alert = _insert(
                kind=AlertKind.GAVE_UP,
                key=f"gave-up:{notification.pk}:{earlier.get(notification.pk, 0)}",
                summary=_describe(notification)[:300],
                notification=notification,
                raised_at=now,
            )
            if alert:
                raised.append(alert)
        if raised:
            lines = [
                f"{len(raised)} notification(s) could not be delivered after every retry:",
                *(f"- {alert.summary}" for alert in raised[:20]),
            ]
            if len(raised) > 20:
                lines.append(f"… and {len(raised) - 20} more.")
            lines.append("Check the mail server or webhook, then retry them.")
            notify(
                admins(),
                subject=f"Tandem: {len(raised)} notification(s) could not be delivered",
                lines=lines,
                action="Open the operations page",
                url=PAGE,
                dedupe_key=f"{selectors.ALERT_DEDUPE_PREFIX}{raised[0].key}",
                kind=Kind.SERVICE,
            )
    for alert in raised:
        logger.warning("alert raised: %s (notification %s)", alert.kind, alert.notification_id)
    return raised


def _describe(notification: Notification) -> str:
    # Names the user by id only: alerts are also logged, and logs carry no personal data.
    to = f"user #{notification.recipient_id}" if notification.recipient_id else "the webhook"
    return f"{notification.get_channel_display()} to {to}: {notification.subject}"


def _sweep_alert(now) -> Alert | None:
    status = selectors.sweep_status(now)
    if not status.stale:
        # A sweep completed again: the outage is over.
        Alert.objects.filter(kind=AlertKind.SWEEP_STALE, resolved_at__isnull=True).update(
            resolved_at=now
        )
        return None
    with transaction.atomic():
        alert = _insert(
            kind=AlertKind.SWEEP_STALE,
            # One alert per outage: the key is the last sweep before it.
            key=f"sweep-stale:{status.since.isoformat()}",
            summary=_sweep_summary(status)[:300],
            raised_at=now,
        )
        if alert is None:
            return None
        notify(
            admins(),
            subject="Tandem: the reminder sweep has stopped",
            lines=[
                alert.summary,
                "Reminders and escalations are not being sent. Check that the Celery worker "
                "and beat are running.",
            ],
            action="Open the operations page",
            url=PAGE,
            dedupe_key=f"{selectors.ALERT_DEDUPE_PREFIX}{alert.key}",
            kind=Kind.SERVICE,
        )
    logger.warning("alert raised: %s", alert.kind)
    return alert


def _sweep_summary(status: selectors.SweepStatus) -> str:
    minutes = int(status.interval.total_seconds() // 60) or 1
    if status.last_completed_at is None:
        return f"No reminder sweep has completed (it should run every {minutes} minute(s))."
    return (
        f"No reminder sweep has completed since {status.last_completed_at:%Y-%m-%d %H:%M} UTC "
        f"(it should run every {minutes} minute(s))."
    )


def retry_notification(notification: Notification, now: datetime | None = None) -> bool:
    """An admin sends a notification that gave up once more: it goes back to the outbox with
    a fresh set of attempts, and its alert is resolved. False when it had not given up."""
    now = now or timezone.now()
    with transaction.atomic():
        updated = Notification.objects.filter(pk=notification.pk, status=Status.GAVE_UP).update(
            status=Status.PENDING, attempts=0, next_attempt_at=None, last_error=""
        )
        if not updated:
            return False
        Alert.objects.filter(
            kind=AlertKind.GAVE_UP, notification=notification, resolved_at__isnull=True
        ).update(resolved_at=now)
        transaction.on_commit(lambda: enqueue_delivery([notification.pk]))
    return True
