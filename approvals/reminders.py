"""The reminder sweep (SPEC §4): a reminder when an open step is due, repeated every `repeat`
hours, and an escalation to the escalation target past the escalation time. Exactly once: each
alert is a row with a unique (step, kind, sequence) key, inserted before anyone is notified, in
the same transaction. Only due steps are read, through the partial index on `next_alert_at`."""

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts import roles
from calendars.selectors import working_hours_by_group
from core import formats
from core.working_hours import WorkingHours

from . import notices
from .models import (
    AlertKind,
    ApprovalStep,
    Consultation,
    ConsultationReminder,
    Side,
    StepAlert,
    StepKind,
    StepState,
)
from .notices import describe, notify_in_their_zones, reviewers_of, step_topic, why_this_step

BATCH = 500
# Whom an escalation reaches when the step names no escalation target.
DEFAULT_ESCALATION = {Side.IT: roles.CIO, Side.PROCUREMENT: roles.CPO, Side.FINANCE: roles.CPO}


def due_steps(now, limit: int = BATCH):
    return (
        ApprovalStep.objects.filter(state=StepState.OPEN, next_alert_at__lte=now)
        .select_related("request", "vendor", "group", "user", "escalation_group", "escalation_user")
        .order_by("next_alert_at", "id")[:limit]
    )


def sweep_due_steps(now=None) -> int:
    """Records and sends what is due; returns how many alerts this run recorded."""
    now = now or timezone.now()
    recorded = 0
    while True:
        batch = list(due_steps(now))
        calendars = working_hours_by_group({step.group_id for step in batch})
        for step in batch:
            recorded += alert_step(step, now, calendars[step.group_id])
        if len(batch) < BATCH:
            return recorded


def alert_step(step: ApprovalStep, now, calendar: WorkingHours) -> int:
    recorded = 0
    with transaction.atomic():
        sequence = None
        if now >= step.due_at:
            sequence = step.reminder_sequence(now, calendar)
            if _record(step, AlertKind.REMINDER, sequence):
                recorded += 1
                _notify_reminder(step, sequence, calendar.zone)
        escalated = step.escalated_at is not None
        if not escalated and step.escalate_at is not None and now >= step.escalate_at:
            escalated = True
            if _record(step, AlertKind.ESCALATION, 0):
                recorded += 1
                ApprovalStep.objects.filter(pk=step.pk, escalated_at__isnull=True).update(
                    escalated_at=now
                )
                _notify_escalation(step, calendar.zone)
        ApprovalStep.objects.filter(pk=step.pk, state=StepState.OPEN).update(
            next_alert_at=step.next_alert(sequence=sequence, escalated=escalated, calendar=calendar)
        )
    return recorded


def _record(step, kind, sequence) -> bool:
    """Inserts the alert's row; False when another run (or a retry) already did."""
    try:
        with transaction.atomic():
            StepAlert.objects.create(step=step, kind=kind, sequence=sequence)
    except IntegrityError:
        return False
    return True


def escalation_targets(step: ApprovalStep):
    User = get_user_model()
    if step.escalation_user_id:
        return [step.escalation_user]
    if step.escalation_group_id:
        group = Q(groups=step.escalation_group_id)
    else:
        group = Q(groups__name=DEFAULT_ESCALATION.get(step.side, roles.CIO))
    return list(User.objects.filter(group, is_active=True).distinct())


def _notify_reminder(step: ApprovalStep, sequence: int, zone) -> None:
    if step.kind != StepKind.REVIEW:
        _notify_work_item_reminder(step, sequence, zone)
        return
    notify_in_their_zones(
        reviewers_of(step),
        step,
        lambda: {
            "subject": f"Reminder: {step.subject_label} waits for your decision",
            "lines": [
                f"The {step.get_side_display()} step of {describe(step)} was due "
                f"{formats.due(step.due_at, dated=True)}.",
                *why_this_step(step),
                "Please approve, request changes or reject it.",
            ],
            "action": "Decide now",
            "url": f"{step.subject.get_absolute_url()}#steps",
            "dedupe_key": f"reminder:{step.pk}:{sequence}",
            "topic": step_topic(step),
        },
        team_zone=zone,
    )


def _notify_work_item_reminder(step: ApprovalStep, sequence: int, zone) -> None:
    request = step.request
    if step.kind == StepKind.ORDER:
        subject = f"Reminder: {request.number} {request.title} is waiting to be ordered"

        def lines():
            return [
                f"{describe(step)} was approved and its order was due "
                f"{formats.due(step.due_at, dated=True)}.",
                "Place the order and record its PO number.",
            ]

        action = "Record the order"
    else:
        subject = f"Reminder: has {request.number} {request.title} arrived?"

        def lines():
            return [
                f"Your request {request.number} “{request.title}” was ordered on "
                f"{formats.day(request.ordered_on)} (PO {request.po_number}).",
                "When it has arrived, confirm receipt to close the request.",
            ]

        action = "Confirm receipt"
    notify_in_their_zones(
        reviewers_of(step),
        step,
        lambda: {
            "subject": subject,
            "lines": lines(),
            "action": action,
            "url": f"{request.get_absolute_url()}#after-approval",
            "dedupe_key": f"reminder:{step.pk}:{sequence}",
            "topic": step_topic(step),
        },
        team_zone=zone,
    )


def _notify_escalation(step: ApprovalStep, zone) -> None:
    if step.kind == StepKind.ORDER:
        request = step.request
        notify_in_their_zones(
            escalation_targets(step),
            step,
            lambda: {
                "subject": f"Escalated: {request.number} {request.title} is not ordered yet",
                "lines": [
                    f"{describe(step)} was approved on {formats.when(step.opened_at)}, its "
                    f"order was due {formats.due(step.due_at, dated=True)}, and it is still "
                    "waiting for procurement to place the order.",
                    "Follow it up with procurement, or record the order yourself.",
                ],
                "action": "Open it",
                "url": f"{request.get_absolute_url()}#after-approval",
                "dedupe_key": f"escalation:{step.pk}",
            },
            team_zone=zone,
        )
        return
    notify_in_their_zones(
        escalation_targets(step),
        step,
        lambda: {
            "subject": f"Escalated: {step.subject_label} is overdue",
            "lines": [
                f"The {step.get_side_display()} step of {describe(step)} for "
                f"{step.reviewer_label} has waited since {formats.when(step.opened_at)}; it was "
                f"due {formats.due(step.due_at, dated=True)}.",
                "It stays with its reviewers; you may decide it if you are in their group, or "
                "follow it up with them.",
            ],
            "action": "Open it",
            "url": f"{step.subject.get_absolute_url()}#steps",
            "dedupe_key": f"escalation:{step.pk}",
            "topic": step_topic(step),
        },
        team_zone=zone,
    )


# Second opinions: one reminder per unanswered consultation.


def due_consultations(now, limit: int = BATCH):
    """Only consultations whose reminder is due, through the partial index on `remind_at`."""
    return (
        Consultation.objects.filter(remind_at__lte=now)
        .select_related(
            "step", "step__request", "step__request__requester", "step__vendor",
            "asked_by", "colleague",
        )
        .order_by("remind_at", "id")[:limit]
    )  # fmt: skip


def sweep_due_consultations(now=None) -> int:
    """Reminds each colleague whose answer is overdue, once; returns how many were recorded.
    A consultation answered, or whose step was decided meanwhile, is only cleared."""
    now = now or timezone.now()
    recorded = 0
    while True:
        batch = list(due_consultations(now))
        for consultation in batch:
            recorded += remind_consultation(consultation)
        if len(batch) < BATCH:
            return recorded


def remind_consultation(consultation: Consultation) -> int:
    with transaction.atomic():
        cleared = Consultation.objects.filter(pk=consultation.pk, remind_at__isnull=False).update(
            remind_at=None
        )
        if not cleared or consultation.is_answered or consultation.step.state != StepState.OPEN:
            return 0
        try:
            with transaction.atomic():
                ConsultationReminder.objects.create(consultation=consultation)
        except IntegrityError:
            return 0  # another run already reminded
        notices.consultation_reminder(consultation)
    return 1
