"""Automatic assignment (issue #28): when a stage opens, each new step of a group that asked
for it (GroupAssignment: round robin, or fewest open steps) is held by one person at once, so
reviewers work from their own items instead of racing for the group's.

Only people who may decide the step are chosen (`selectors.may_decide_by_step`: active members,
never the requester, never somebody barred by four eyes), and never somebody out of office (an
open delegation: their delegate already acts for them). With nobody to choose, the step stays
the whole group's, as without automatic assignment. Runs inside the opening's transaction; the
group's row is locked, so two stages opening at once never give the same turn twice."""

from django.db.models import Count
from django.utils import timezone

from accounts.models import Delegation
from audit.services import record_event

from . import notices
from .models import JOINT_SIDES, ApprovalStep, AssignmentMode, GroupAssignment, StepState
from .selectors import may_decide_by_step

# How each mode reads in an event and a notice: "assigned to you by round robin".
HOW = {AssignmentMode.ROUND_ROBIN: "round robin", AssignmentMode.FEWEST_OPEN: "fewest open steps"}


def assign_opened(steps: list[ApprovalStep]) -> list[ApprovalStep]:
    """Assigns the group steps just opened whose group assigns automatically; returns those
    assigned. One query when no group of the steps does."""
    group_ids = {step.group_id for step in steps if step.group_id and not step.assignee_id}
    if not group_ids:
        return []
    settings_by_group = {
        row.group_id: row
        for row in GroupAssignment.objects.select_for_update()
        .filter(group_id__in=group_ids)
        .exclude(mode=AssignmentMode.OFF)
        .order_by("group_id")  # one lock order for every opening
    }
    wanted = [s for s in steps if s.group_id in settings_by_group and not s.assignee_id]
    if not wanted:
        return []
    now = timezone.now()
    eligible = may_decide_by_step(wanted)
    people = {person.pk for persons in eligible.values() for person in persons}
    away = set(
        Delegation.objects.filter(
            delegator_id__in=people, starts_at__lte=now, ends_at__gt=now
        ).values_list("delegator_id", flat=True)
    )
    load = _open_steps_held(people)
    # Who got a joint side of each subject in this opening: four eyes will bar them from the
    # other side as soon as they decide, so that side goes to somebody else.
    sides_given: dict[tuple, str] = {}
    assigned = []
    for step in wanted:
        config = settings_by_group[step.group_id]
        subject = (step.request_id, step.vendor_id)
        candidates = [
            p
            for p in eligible[step.pk]
            if p.pk not in away and sides_given.get((subject, p.pk), step.side) == step.side
        ]
        if not candidates:
            continue
        person = _choose(config, candidates, load)
        load[person.pk] = load.get(person.pk, 0) + 1
        if step.side in JOINT_SIDES:
            sides_given[(subject, person.pk)] = step.side
        config.last_assigned = person
        step.assignee, step.assigned_at = person, now
        ApprovalStep.objects.filter(pk=step.pk).update(assignee=person, assigned_at=now)
        record_event(
            step.subject,
            actor=None,
            kind="step_assigned",
            payload={
                "step": step.pk,
                "reviewer": step.reviewer_label,
                "side": step.side,
                "stage": step.stage,
                "holder": str(person),
                "holder_username": person.username,
                "previous_holder": "",
                "automatic": HOW[config.mode],
            },
        )
        notices.step_assigned(step, by=None, how=HOW[config.mode])
        assigned.append(step)
    for config in {settings_by_group[step.group_id] for step in assigned}:
        config.save(update_fields=["last_assigned"])
    return assigned


def _open_steps_held(people: set[int]) -> dict[int, int]:
    rows = (
        ApprovalStep.objects.filter(state=StepState.OPEN, assignee_id__in=people)
        .values("assignee_id")
        .annotate(held=Count("id"))
        .order_by()
    )
    return {row["assignee_id"]: row["held"] for row in rows}


def _choose(config: GroupAssignment, candidates: list, load: dict[int, int]):
    """Round robin: the next candidate after whoever had the last turn, in a fixed order (by
    id). Fewest open: whoever holds the fewest open steps, the longest-standing member first
    among equals."""
    ordered = sorted(candidates, key=lambda person: person.pk)
    if config.mode == AssignmentMode.FEWEST_OPEN:
        return min(ordered, key=lambda person: load.get(person.pk, 0))
    last = config.last_assigned_id or 0
    return next((person for person in ordered if person.pk > last), ordered[0])
