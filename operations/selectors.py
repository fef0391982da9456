"""Reads for the metrics and the operations page: each figure is one aggregate query, so a
scrape costs the same few queries however much data there is."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Min, Q
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from approvals import policies as approval_policies
from approvals.models import ApprovalStep, Side, StepState
from core import heartbeats
from intake.models import PurchaseRequest, State
from notifications.models import Notification, Status

SWEEP_TASK = "approvals.tasks.sweep_reminders"
# The sweep's interval when its schedule is missing or not an interval (the migration's).
DEFAULT_SWEEP_INTERVAL = timedelta(minutes=5)
# A sweep is late after this many of its intervals without one completing.
STALE_AFTER_INTERVALS = 3
UNDELIVERED = (Status.PENDING, Status.SENDING, Status.FAILED)
# The outbox rows of the alerts (their bell notices; before issue 30 their e-mails too) are
# never themselves the subject of an alert.
ALERT_DEDUPE_PREFIX = "ops-alert:"


def requests_by_state() -> dict[str, int]:
    counts = dict.fromkeys(State.values, 0)
    for row in PurchaseRequest.objects.values("state").annotate(n=Count("id")).order_by():
        counts[row["state"]] = row["n"]
    return counts


def open_steps_by_side(now: datetime) -> dict[str, tuple[int, int]]:
    """(open, overdue) per side, over the steps of requests and of vendor reviews."""
    counts = dict.fromkeys(Side.values, (0, 0))
    rows = (
        ApprovalStep.objects.filter(state=StepState.OPEN)
        .values("side")
        .annotate(open=Count("id"), overdue=Count("id", filter=Q(due_at__lt=now)))
        .order_by()
    )
    for row in rows:
        counts[row["side"]] = (row["open"], row["overdue"])
    return counts


def outbox_by_status() -> dict[str, int]:
    counts = {status: 0 for status in (*UNDELIVERED, Status.GAVE_UP)}
    rows = (
        Notification.objects.filter(status__in=counts)
        .values("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        counts[row["status"]] = row["n"]
    return counts


def oldest_undelivered_at() -> datetime | None:
    """When the oldest notification still waiting for delivery (pending, being sent, or
    failed and waiting for its retry) was written."""
    return Notification.objects.filter(status__in=UNDELIVERED).aggregate(at=Min("created_at"))["at"]


def gave_up_notifications(limit: int = 50):
    return (
        Notification.objects.filter(status=Status.GAVE_UP)
        .select_related("recipient")
        .order_by("-next_attempt_at", "-id")[:limit]
    )


@dataclass(frozen=True)
class SweepStatus:
    interval: timedelta
    last_completed_at: datetime | None
    # What lateness is measured from: the last completed sweep, or when the schedule was
    # created or changed if no sweep has ever completed.
    since: datetime | None
    stale: bool

    @property
    def stale_after(self) -> timedelta:
        return self.interval * STALE_AFTER_INTERVALS


def sweep_interval() -> timedelta:
    task = (
        PeriodicTask.objects.filter(task=SWEEP_TASK, enabled=True)
        .select_related("interval")
        .order_by("id")
        .first()
    )
    if task is None or task.interval is None:
        return DEFAULT_SWEEP_INTERVAL
    return task.interval.schedule.run_every


def sweep_status(now: datetime | None = None, beats: dict | None = None) -> SweepStatus:
    """SPEC §4's sweep runs every interval (admins set it under Periodic tasks): it is late when
    three intervals have passed without one completing."""
    now = now or timezone.now()
    beats = heartbeats.all_last() if beats is None else beats
    interval = sweep_interval()
    last = beats.get(heartbeats.SWEEP)
    since = last
    if since is None:
        since = (
            PeriodicTask.objects.filter(task=SWEEP_TASK)
            .order_by("date_changed")
            .values_list("date_changed", flat=True)
            .first()
        )
    stale = since is not None and now - since > interval * STALE_AFTER_INTERVALS
    return SweepStatus(interval=interval, last_completed_at=last, since=since, stale=stale)


def steps_nobody_may_decide(limit: int = 50) -> list[ApprovalStep]:
    """Open steps that no active person may decide (SPEC §3: none should exist; such a step
    goes to its side's leader at once, so one listed here is the leader's own step, or was
    left by a change Tandem did not see, e.g. a delegation that ran out). Oldest first."""
    steps = approval_policies.nobody_may_decide(ApprovalStep.objects.filter(state=StepState.OPEN))
    return list(
        steps.select_related("request", "vendor", "group", "user").order_by("opened_at", "pk")[
            :limit
        ]
    )
