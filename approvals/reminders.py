"""The reminder sweep (SPEC §4): a reminder when an open step is due, repeated every `repeat`
hours, and an escalation to the escalation target past the escalation time. Exactly once: each
alert is a row with a unique (step, kind, sequence) key, inserted before anyone is notified, in
the same transaction. Only due steps are read, through the partial index on `next_alert_at`.

Set-based: the due steps are read in batches (keyset over `next_alert_at, id`, so memory stays
flat however many are due); each batch is one transaction: one INSERT … ON CONFLICT DO NOTHING
RETURNING of its alerts, the notifications of exactly the returned alerts in one statement, their
audit events (SPEC §8) in one more under the chain's lock, taken first, the steps rescheduled in
one UPDATE. A second sweep running at the same time waits on the first's uncommitted alert
keys, then inserts nothing for them: it notifies nobody twice, and records no event twice."""

import functools

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.urls import get_script_prefix, get_urlconf
from django.utils import timezone

from accounts import roles
from audit.services import NewEvent, record_event, record_events
from calendars.selectors import working_hours_by_group
from core import formats
from notifications.models import Kind
from notifications.services import Message, notify_batch

from . import notices
from .models import (
    LEADER_OF_SIDE,
    MEMBER_ORDER,
    AlertKind,
    ApprovalStep,
    Consultation,
    ConsultationReminder,
    StepAlert,
    StepKind,
    StepState,
)
from .notices import amount_of, describe, messages_in_their_zones, step_topic, why_this_step

BATCH = 1000


def due_steps(now, after=None, limit: int | None = None) -> list[ApprovalStep]:
    """The next `limit` due open steps after the key `after` ((next_alert_at, id) of the last
    step of the previous batch)."""
    steps = ApprovalStep.objects.filter(state=StepState.OPEN, next_alert_at__lte=now)
    if after is not None:
        at, pk = after
        steps = steps.filter(Q(next_alert_at__gt=at) | Q(next_alert_at=at, pk__gt=pk))
    # The batch's keys first, from the index alone; then only those steps are joined to their
    # requests, vendors and reviewers (joining every due step, then keeping the first
    # thousand, cost each batch as much as all the steps still due).
    keys = steps.order_by("next_alert_at", "id").values_list("pk", flat=True)[: limit or BATCH]
    keys = list(keys)
    if not keys:
        return []
    # The groups and named reviewers, few and shared by many steps, are read apart: one
    # object each, not one per step. The escalation user is read with the batch's people
    # (`notices.StepPeople`), only when escalating.
    return list(
        ApprovalStep.objects.filter(pk__in=keys)
        .select_related("request__requester", "vendor")
        .prefetch_related("group", "user", "escalation_group")
        .order_by("next_alert_at", "id")
    )


def sweep_due_steps(now=None) -> int:
    """Records and sends what is due; returns how many alerts this run recorded."""
    now = now or timezone.now()
    recorded = 0
    after = None
    while True:
        batch = due_steps(now, after)
        if batch:
            after = (batch[-1].next_alert_at, batch[-1].pk)
            calendars = working_hours_by_group({step.group_id for step in batch})
            recorded += alert_steps(batch, now, calendars)
        if len(batch) < BATCH:
            return recorded


def alert_steps(steps: list[ApprovalStep], now, calendars: dict) -> int:
    """Records the alerts due for these steps, notifies for the ones this run inserted and
    reschedules the steps, in one transaction; returns how many alerts it recorded. `calendars`:
    each reviewer group's working hours (`working_hours_by_group`), which the schedule counts."""
    wanted, next_at = [], {}
    for step in steps:
        calendar = calendars[step.group_id]
        sequence = None
        if now >= step.due_at:
            sequence = step.reminder_sequence(now, calendar)
            wanted.append((step.pk, AlertKind.REMINDER.value, sequence))
        escalated = step.escalated_at is not None
        if not escalated and step.escalate_at is not None and now >= step.escalate_at:
            escalated = True
            wanted.append((step.pk, AlertKind.ESCALATION.value, 0))
        next_at[step.pk] = step.next_alert(
            sequence=sequence, escalated=escalated, calendar=calendar
        )
    by_pk = {step.pk: step for step in steps}
    with transaction.atomic():
        recorded = _record(wanted)
        escalated_ids = [pk for pk, kind, _ in recorded if kind == AlertKind.ESCALATION]
        if escalated_ids:
            ApprovalStep.objects.filter(pk__in=escalated_ids, escalated_at__isnull=True).update(
                escalated_at=now
            )
        _reschedule(next_at)
        if recorded:
            people = notices.StepPeople([by_pk[pk] for pk, _, _ in recorded])
            messages, events = [], []
            for pk, kind, sequence in sorted(recorded):
                step = by_pk[pk]
                zone = calendars[step.group_id].zone
                if kind == AlertKind.REMINDER:
                    reviewers = people.reviewers(step)
                    messages += _reminder(step, sequence, reviewers, zone)
                    events.append(_reminder_event(step, sequence, reviewers))
                else:
                    targets = people.escalation_targets(step)
                    messages += _escalation(step, targets, zone)
                    events.append(_escalation_event(step, targets))
            notify_batch(messages)
            # The evidence of each alert, in the transaction that inserted its unique row: a
            # second sweep inserts no row, so it records no event either.
            record_events(events)
    return len(recorded)


def _record(wanted: list[tuple[int, str, int]]) -> list[tuple[int, str, int]]:
    """Inserts the alerts' rows, in one statement, for the steps still open; returns the keys
    it inserted: not the ones another run (or a retry) already did. Rows are inserted in key
    order, so two sweeps over overlapping batches wait on each other rather than deadlock."""
    if not wanted:
        return []
    wanted = sorted(set(wanted))
    if connection.vendor == "sqlite" and connection.Database.sqlite_version_info < (3, 35):
        return _record_one_by_one(wanted)
    alert, step = StepAlert._meta.db_table, ApprovalStep._meta.db_table
    created_at = connection.ops.adapt_datetimefield_value(timezone.now())
    values = ", ".join(["(%s, %s, %s)"] * len(wanted))
    parameters = [value for key in wanted for value in key]
    # The VALUES columns are column1..3 on PostgreSQL and SQLite alike.
    sql = (
        f"INSERT INTO {alert} (step_id, kind, sequence, created_at) "  # noqa: S608 - names only
        f"SELECT v.column1, v.column2, v.column3, %s FROM (VALUES {values}) AS v "
        f"JOIN {step} AS s ON s.id = v.column1 WHERE s.state = %s "
        "ORDER BY v.column1, v.column2, v.column3 "
        "ON CONFLICT (step_id, kind, sequence) DO NOTHING RETURNING step_id, kind, sequence"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [created_at, *parameters, StepState.OPEN.value])
        return [tuple(row) for row in cursor.fetchall()]


def _record_one_by_one(wanted):
    """The same, for a database without INSERT … RETURNING: one savepoint per alert."""
    recorded = []
    open_ids = set(
        ApprovalStep.objects.filter(
            pk__in={pk for pk, _, _ in wanted}, state=StepState.OPEN
        ).values_list("pk", flat=True)
    )
    for pk, kind, sequence in wanted:
        if pk not in open_ids:
            continue
        try:
            with transaction.atomic():
                StepAlert.objects.create(step_id=pk, kind=kind, sequence=sequence)
        except IntegrityError:
            continue
        recorded.append((pk, kind, sequence))
    return recorded


def _reschedule(next_at: dict) -> None:
    """Sets each still-open step's `next_alert_at`, in one statement."""
    if not next_at:
        return
    table = ApprovalStep._meta.db_table
    cast = "::timestamptz" if connection.vendor == "postgresql" else ""
    values = ", ".join([f"(%s, %s{cast})"] * len(next_at))
    parameters = []
    for pk, at in sorted(next_at.items()):
        parameters += [pk, connection.ops.adapt_datetimefield_value(at)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET next_alert_at = v.column2 FROM (VALUES {values}) AS v "  # noqa: S608
            f"WHERE {table}.id = v.column1 AND {table}.state = %s",
            [*parameters, StepState.OPEN.value],
        )


def _people(users, *, leaving_out=None) -> str:
    """Who was told, as people read it: "Ivan Novak or 2 others"; "" for nobody."""
    people = sorted(
        (user for user in users if user.pk != leaving_out),
        key=lambda user: tuple(getattr(user, field) for field in MEMBER_ORDER),
    )
    if not people:
        return ""
    others = len(people) - 1
    return f"{people[0]}" + (f" or {others} other{'s' if others > 1 else ''}" if others else "")


def _step_facts(step: ApprovalStep) -> dict:
    return {
        "step": step.pk,
        "step_kind": step.kind,
        "side": step.side,
        "stage": step.stage,
        "reviewer": step.reviewer_label,
    }


def _reminder_event(step: ApprovalStep, sequence: int, reviewers) -> NewEvent:
    """The audit event of a reminder (SPEC §8): whom it went to, which one it was."""
    requester = step.request.requester_id if step.request_id else None
    payload = {
        **_step_facts(step),
        "sequence": sequence,
        "people": _people(reviewers, leaving_out=requester if step.is_review else None),
        "due_at": step.due_at,
    }
    return NewEvent(step.subject, kind="reminder_sent", payload=payload)


def _escalation_event(step: ApprovalStep, targets) -> NewEvent:
    """The audit event of an escalation: to whom, after how many working hours."""
    if step.escalation_user_id:
        target = str(targets[0]) if targets else ""
    elif step.escalation_group_id:
        target = roles.group_label(step.escalation_group.name)
    else:
        target = roles.group_label(LEADER_OF_SIDE.get(step.side, roles.CIO))
    if target in (roles.group_label(name) for name in roles.LEADERS):
        target = f"the {target}"
    payload = {
        **_step_facts(step),
        "to": target,
        "people": _people(targets),
        "after_hours": step.escalate_after_hours,
        "due_at": step.due_at,
    }
    return NewEvent(step.subject, kind="escalated", payload=payload)


# A primary key no row has: `_link` reverses it once per model.
SENTINEL = 987_654_321_987


@functools.cache
def _link_parts(model, prefix: str, urlconf) -> tuple[str, str] | None:
    """The link of `model`'s sentinel row split around its id (under this script prefix and
    URLconf, which `reverse` reads); None when the id does not show once in it."""
    parts = model(pk=SENTINEL).get_absolute_url().split(str(SENTINEL))
    return (parts[0], parts[1]) if len(parts) == 2 else None


def _link(obj) -> str:
    """`obj.get_absolute_url()`, without resolving the URL pattern for each of a batch's steps
    (a tenth of a millisecond each): the link of a sentinel id, reversed once, with the id in
    its place."""
    parts = _link_parts(type(obj), get_script_prefix(), get_urlconf())
    return f"{parts[0]}{obj.pk}{parts[1]}" if parts else obj.get_absolute_url()


def _reminder(step: ApprovalStep, sequence: int, reviewers, zone) -> list[Message]:
    """The reminder, in each reviewer's time zone (the team's `zone` by default)."""
    if step.kind != StepKind.REVIEW:
        return _work_item_reminder(step, sequence, reviewers, zone)
    return messages_in_their_zones(
        reviewers,
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
            "url": f"{_link(step.subject)}#steps",
            "dedupe_key": f"reminder:{step.pk}:{sequence}",
            "kind": Kind.REMINDERS,
            "topic": step_topic(step),
            "amount": amount_of(step),
        },
        team_zone=zone,
    )


def _work_item_reminder(step: ApprovalStep, sequence: int, reviewers, zone) -> list[Message]:
    request = step.request
    if step.kind == StepKind.ORDER:
        subject = f"Reminder: {request.number} {request.title} is waiting to be ordered"

        def lines():
            return [
                f"The request from {request.requester} was approved and its order was due "
                f"{formats.due(step.due_at, dated=True)}.",
                "Place the order and record its PO number.",
            ]

        action = "Record the order"
    else:
        subject = f"Reminder: has {request.number} {request.title} arrived?"

        def lines():
            return [
                f"Your request was ordered on {formats.day(request.ordered_on)} "
                f"(PO {request.po_number}).",
                "When it has arrived, confirm receipt to close the request.",
            ]

        action = "Confirm receipt"
    return messages_in_their_zones(
        reviewers,
        step,
        lambda: {
            "subject": subject,
            "lines": lines(),
            "action": action,
            "url": f"{_link(request)}#after-approval",
            "dedupe_key": f"reminder:{step.pk}:{sequence}",
            "kind": Kind.REMINDERS,
            "topic": step_topic(step),
            "amount": amount_of(step),
        },
        team_zone=zone,
    )


def _escalation(step: ApprovalStep, targets, zone) -> list[Message]:
    if step.kind == StepKind.ORDER:
        request = step.request
        return messages_in_their_zones(
            targets,
            step,
            lambda: {
                "subject": f"Escalated: {request.number} {request.title} is not ordered yet",
                "lines": [
                    f"The request from {request.requester} was approved on "
                    f"{formats.when(step.opened_at)}, its "
                    f"order was due {formats.due(step.due_at, dated=True)}, and it is still "
                    "waiting for procurement to place the order.",
                    "Follow it up with procurement, or record the order yourself.",
                ],
                "action": "Open it",
                "url": f"{_link(request)}#after-approval",
                "dedupe_key": f"escalation:{step.pk}",
                "kind": Kind.ASSIGNED,
                "amount": amount_of(step),
            },
            team_zone=zone,
        )
    return messages_in_their_zones(
        targets,
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
            "url": f"{_link(step.subject)}#steps",
            "dedupe_key": f"escalation:{step.pk}",
            "kind": Kind.ASSIGNED,
            "topic": step_topic(step),
            "amount": amount_of(step),
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
        step = consultation.step
        record_event(
            step.subject,
            actor=None,
            kind="consultation_reminded",
            payload={
                **_step_facts(step),
                "consultation": consultation.pk,
                "colleague": str(consultation.colleague),
                "asked_by": str(consultation.asked_by),
            },
        )
    return 1
