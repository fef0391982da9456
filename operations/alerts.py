"""Alerts an admin sees (issue 20): notifications whose delivery gave up, and a reminder sweep
that has not completed for three of its intervals. Each appears on the operations page and
reaches the admins exactly once, by a path that needs neither the Celery worker nor the broker
(issue 30), so that the alert about a dead worker is not itself waiting for that worker:

- its row, whose unique key names the cause, is inserted in the same transaction as the bell
  notices of the admins (in-app notices are delivered by being written);
- its e-mail goes straight to the mail server (Django's mail backend, not the outbox): the row
  is claimed, the e-mail sent, the row marked `mailed_at`. A failed send releases the claim
  and is tried again at the next check; a sent one is never sent again;
- when TANDEM_ALERT_WEBHOOK_URL is set, a short {"text": …} is posted there as well, once, at
  the first try (a failure is logged; the e-mail is the path that is retried).

`raise_alerts` runs inside Celery beat's process every minute (operations.scheduler), and
`manage.py check_alerts` runs it by hand or from cron."""

import json
import logging
import urllib.request
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, F, OuterRef, Q
from django.utils import timezone

from approvals import rule_drafts
from core import formats
from core.policies import ADMINS
from notifications.models import Notification, Status
from notifications.services import absolute_url, enqueue_delivery, notify_in_app, render_email

from . import selectors
from .models import Alert, AlertKind

logger = logging.getLogger(__name__)

PAGE = "/operations/"
ACTION = "Open the operations page"
BATCH = 200
# Beat waits at most this long for the mail server and the webhook, then schedules on.
MAIL_TIMEOUT = 10  # seconds
WEBHOOK_TIMEOUT = 5  # seconds
# An e-mail claimed longer ago than this died with its beat (killed mid-send): sent again.
CLAIM_TIMEOUT = timedelta(minutes=10)


def admins():
    return list(get_user_model().objects.filter(ADMINS))


def raise_alerts(now: datetime | None = None) -> list[Alert]:
    """Records what is new and tells the admins of every alert not yet mailed (this run's, and
    those whose e-mail failed before); returns the alerts this run raised."""
    now = now or timezone.now()
    raised = _gave_up_alerts(now)
    stale = _sweep_alert(now)
    if stale:
        raised.append(stale)
    raised.extend(_unconfirmed_rules_alerts(now))
    mail_admins(now)
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
            _tell_in_app(AlertKind.GAVE_UP, raised)
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
        _tell_in_app(AlertKind.SWEEP_STALE, [alert])
    logger.warning("alert raised: %s", alert.kind)
    return alert


def _unconfirmed_rules_alerts(now) -> list[Alert]:
    """A rule change one admin published in an emergency that no second admin approved within
    a day (approvals.rule_drafts, SPEC §3: four eyes on the rules themselves): once per change."""
    _resolve_confirmed_rules(now)
    raised = []
    with transaction.atomic():
        for draft in rule_drafts.unconfirmed_emergencies(now).select_related("emergency_by")[
            :BATCH
        ]:
            alert = _insert(
                kind=AlertKind.RULES_UNCONFIRMED,
                key=f"rules-unconfirmed:{draft.pk}",
                summary=(
                    f"Rule change {draft.pk}, published in an emergency by {draft.emergency_by} "
                    f"on {draft.emergency_at:%Y-%m-%d %H:%M} UTC, has no second admin's approval."
                )[:300],
                raised_at=now,
            )
            if alert:
                raised.append(alert)
        if raised:
            _tell_in_app(AlertKind.RULES_UNCONFIRMED, raised)
    return raised


def _resolve_confirmed_rules(now) -> None:
    """A second admin approved the change since its alert: the alert is over."""
    open_alerts = Alert.objects.filter(kind=AlertKind.RULES_UNCONFIRMED, resolved_at__isnull=True)
    by_draft = {int(alert.key.rsplit(":", 1)[1]): alert.pk for alert in open_alerts}
    confirmed = rule_drafts.confirmed_among(by_draft)
    if confirmed:
        Alert.objects.filter(pk__in=[by_draft[pk] for pk in confirmed]).update(resolved_at=now)


def _sweep_summary(status: selectors.SweepStatus) -> str:
    minutes = int(status.interval.total_seconds() // 60) or 1
    if status.last_completed_at is None:
        return f"No reminder sweep has completed (it should run every {minutes} minute(s))."
    return (
        f"No reminder sweep has completed since {formats.when(status.last_completed_at)} "
        f"(it should run every {minutes} minute(s))."
    )


def _message(kind: str, alerts: list[Alert]) -> tuple[str, list[str]]:
    """The subject and lines that tell these alerts of one kind: the same under the bell, in
    the e-mail and on the webhook. Several alerts of a kind make one message."""
    if kind == AlertKind.GAVE_UP:
        lines = [
            f"{len(alerts)} notification(s) could not be delivered after every retry:",
            *(f"- {alert.summary}" for alert in alerts[:20]),
        ]
        if len(alerts) > 20:
            lines.append(f"… and {len(alerts) - 20} more.")
        lines.append("Check the mail server or webhook, then retry them.")
        return f"Tandem: {len(alerts)} notification(s) could not be delivered", lines
    if kind == AlertKind.RULES_UNCONFIRMED:
        return "Tandem: a rule change published in an emergency awaits a second admin", [
            *(alert.summary for alert in alerts),
            "Open Rules, then the change, and approve it (or restore the version before it).",
        ]
    return "Tandem: the reminder sweep has stopped", [
        *(alert.summary for alert in alerts),
        "Reminders and escalations are not being sent. Check that the Celery worker and beat "
        "are running.",
    ]


def _tell_in_app(kind: str, alerts: list[Alert]) -> None:
    subject, lines = _message(kind, alerts)
    notify_in_app(
        admins(),
        subject=subject,
        lines=lines,
        url=PAGE,
        dedupe_key=f"{selectors.ALERT_DEDUPE_PREFIX}{alerts[0].key}",
    )


def mail_admins(now: datetime | None = None) -> int:
    """E-mails every alert not yet mailed to the active superusers, one e-mail per kind, straight
    through the mail server; returns how many alerts were mailed now. Each row is claimed
    first, so two checks at once never both send it, and marked sent after: a failed send is
    released for the next check, a sent alert is never mailed again."""
    now = now or timezone.now()
    due = (
        Alert.objects.filter(mailed_at__isnull=True)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_TIMEOUT))
        .order_by("id")[:BATCH]
    )
    claimed = [alert for alert in due if _claim(alert, now)]
    mailed = 0
    for kind in AlertKind.values:
        alerts = [alert for alert in claimed if alert.kind == kind]
        if alerts:
            mailed += _send(kind, alerts)
    return mailed


def _claim(alert: Alert, now) -> bool:
    """Takes the alert for this check: False when another check took it first."""
    taken = Alert.objects.filter(
        pk=alert.pk, mailed_at__isnull=True, claimed_at=alert.claimed_at
    ).update(claimed_at=now, attempts=F("attempts") + 1)
    return taken == 1


def _send(kind: str, alerts: list[Alert]) -> int:
    # The webhook hears of each alert once, at its first try (`attempts` as claimed).
    first_tried = [alert for alert in alerts if alert.attempts == 0]
    if first_tried:
        _post_to_webhook(*_message(kind, first_tried))
    rows = Alert.objects.filter(pk__in=[alert.pk for alert in alerts])
    try:
        _email(*_message(kind, alerts))
    except Exception as error:  # noqa: BLE001 - whatever the mail server did, the next check retries
        rows.update(claimed_at=None, last_error=f"{type(error).__name__}: {error}"[:2000])
        logger.warning(
            "the e-mail of %s alert(s) could not be sent; the next check tries again: %s",
            len(alerts),
            error,
        )
        return 0
    rows.update(mailed_at=timezone.now(), claimed_at=None, last_error="")
    logger.info("the e-mail of %s alert(s) was sent to the admins", len(alerts))
    return len(alerts)


def _email(subject: str, lines: list[str]) -> None:
    to = [user.email for user in admins() if user.email]
    if not to:
        logger.warning("no active superuser has an e-mail address: alerts are on the page only")
        return
    text, html = render_email(subject, lines, ACTION, PAGE)
    message = EmailMultiAlternatives(
        subject=subject, body=text, to=to, connection=get_connection(timeout=MAIL_TIMEOUT)
    )
    message.attach_alternative(html, "text/html")
    message.send()


def _post_to_webhook(subject: str, lines: list[str]) -> None:
    """Posts {"text": …} to TANDEM_ALERT_WEBHOOK_URL, if set. The operator sets this URL (it may
    be internal, so no public-address rule applies); a failure is logged, never raised."""
    url = settings.TANDEM_ALERT_WEBHOOK_URL
    if not url:
        return
    text = "\n".join([subject, *lines, absolute_url(PAGE)])
    request = urllib.request.Request(  # noqa: S310 - an http(s) URL the operator set (settings)
        url,
        data=json.dumps({"text": text}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT):  # noqa: S310
            pass  # urllib raises for an answer of 400 or more
    except Exception as error:  # noqa: BLE001 - never into beat; the URL (a secret) is not logged
        logger.warning("the alert webhook could not be reached: %s", error)


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
