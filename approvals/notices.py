"""Who is told what when a review moves (SPEC §4): reviewers when their step opens, the
requester when their request is decided, a colleague when asked for a second opinion and the
asker when answered. Nobody is told before their stage is open. Every notice names who acted,
the request (number and title) and the reason or comment; notices asking for a decision carry
the step as their topic, so deciding it settles them for the whole group. A step opening for a
group that nobody holds yet is one notice for the group in the app, whatever its size (SPEC
§4); its members each get its e-mail as they chose."""

import zoneinfo
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from accounts import roles
from calendars import selectors as calendar_selectors
from core import formats
from notifications.models import Kind
from notifications.services import Message, mark_done, money_text, notify, notify_many

from . import policies
from .models import LEADER_OF_SIDE, ApprovalStep, Consultation, StepKind
from .subjects import subject_of


def reviewers_of(step: ApprovalStep):
    return StepPeople([step], escalation=False).reviewers(step)


class StepPeople:
    """Who is told about steps: their reviewers (the named one, else the group's active
    people) and their escalation targets, for all the steps at once in one query."""

    def __init__(self, steps, *, escalation: bool = True):
        """`escalation=False` reads only the reviewers (a stage opening tells nobody else)."""
        User = get_user_model()
        groups, names, users = set(), set(), set()
        for step in steps:
            if not step.user_id:
                groups.add(step.group_id)
            if not escalation:
                continue
            if step.escalation_user_id:
                users.add(step.escalation_user_id)
            elif step.escalation_group_id:
                groups.add(step.escalation_group_id)
            else:
                names.add(LEADER_OF_SIDE.get(step.side, roles.CIO))
        self.by_group, self.by_name = {}, {}
        wanted, related = Q(group_id__in=groups), ["user"]
        if names:  # the side's leaders, by their group's name (a stage opening needs none)
            wanted, related = wanted | Q(group__name__in=names), ["user", "group"]
        memberships = User.groups.through.objects.filter(wanted, user__is_active=True)
        for membership in memberships.select_related(*related).order_by("user_id"):
            self.by_group.setdefault(membership.group_id, []).append(membership.user)
            if names:
                self.by_name.setdefault(membership.group.name, []).append(membership.user)
        self.users = User.objects.in_bulk(users) if users else {}

    def reviewers(self, step):
        return [step.user] if step.user_id else self.by_group.get(step.group_id, [])

    def escalation_targets(self, step):
        """The named escalation user, else the escalation group's active members, else those
        of the side's default (CIO or CPO)."""
        if step.escalation_user_id:
            user = self.users.get(step.escalation_user_id)
            return [user] if user is not None else []
        if step.escalation_group_id:
            return self.by_group.get(step.escalation_group_id, [])
        return self.by_name.get(LEADER_OF_SIDE.get(step.side, roles.CIO), [])


def describe(step: ApprovalStep) -> str:
    """The step's subject in a notice's lines. Every notice about a step names its subject in
    the subject line ("For your decision: PR-2026-00042 Miro boards"), and the inbox shows the
    subject and the lines together: the lines say "the request from Rita Requester", never
    the number and title a second time."""
    return subject_of(step).reference


def notify_in_their_zones(
    recipients, step: ApprovalStep, message: Callable[[], dict], *, team_zone=None
) -> None:
    """Notifies each recipient with the times of `message` in their own time zone: their
    preference, else the zone of the step's working-hours calendar. `message` builds notify's
    arguments under the recipient's zone; the dedupe key stays one per cause and person."""
    notify_many(messages_in_their_zones(recipients, step, message, team_zone=team_zone))


def messages_in_their_zones(
    recipients, step: ApprovalStep, message: Callable[[], dict], *, team_zone=None
) -> list[Message]:
    """The messages `notify_in_their_zones` writes, one per time zone among the recipients: for
    `notify_many` (the reminder sweep writes a whole batch's at once). A message to a group
    (`group_id`) starts with the team's zone, even when none of the recipients is in it: its
    one in-app notice, shown to the whole group, is written from the first."""
    team_zone = team_zone or calendar_selectors.working_hours_of(step.group_id).zone
    by_zone: dict = {team_zone: []}
    for user in recipients:
        by_zone.setdefault(zone_of(user.time_zone) or team_zone, []).append(user)
    messages = []
    for zone, users in by_zone.items():
        with timezone.override(zone):
            built = Message(users, **message())
        if users or built.group_id:
            messages.append(built)
    return messages


def zone_of(name: str):
    try:
        return zoneinfo.ZoneInfo(name) if name else None
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def request_amount(purchase_request) -> str:
    """The money a notice about a request names at its top, with the link: its total cost."""
    return money_text(purchase_request.total_cost, purchase_request.currency)


def amount_of(step: ApprovalStep) -> str:
    """The amount at the top of a notice about a step: its request's ("" for a vendor
    review, which costs nothing itself)."""
    return request_amount(step.request) if step.request_id else ""


def step_topic(step: ApprovalStep) -> str:
    """The topic of every notice asking for a decision on this step (opened, reminders,
    escalation): settled once the step is decided or closed."""
    return f"step:{step.pk}"


def steps_closed(steps) -> None:
    """The one place a step's closing reaches people (SPEC §4: nobody is left thinking a closed
    step waits on them): its notices are settled for every recipient, on every channel, saying
    how it closed ("Ivan Novak approved", "Closed: Rita Requester withdrew the request"). In-app
    notices in this transaction; chat messages are updated after it commits (the hooks of
    `mark_done`). Every way a step closes calls it: a decision, the decision that ends its
    round, a withdrawal, a vendor not approved, a work item done."""
    by_note: dict[str, list[str]] = {}
    for step in steps:
        by_note.setdefault(step.closing_note, []).append(step_topic(step))
    for note, topics in by_note.items():
        mark_done(topics, note=note)


def consultation_topic(consultation: Consultation) -> str:
    return f"consultation:{consultation.pk}"


def why_this_step(step: ApprovalStep) -> list[str]:
    return [f"Why this step: {'; '.join(step.reasons)}."] if step.reasons else []


def quoted(text: str, limit: int = 500) -> str:
    text = " ".join(text.split())
    return f"“{text[:limit]}{'…' if len(text) > limit else ''}”"


def steps_opened(steps: list[ApprovalStep], *, because: str = "", calendars: dict) -> None:
    """Tells the reviewers of each opened step, all in one statement: a step for a group that
    nobody holds yet is one notice for the group, and an e-mail to each member who chose it at
    once. Nobody is told of a step they may never decide (their own request: SPEC §3), and the
    holder of a step assigned as it opened hears it as theirs (`step_assigned`). `because` says
    who opened them and how, e.g. "Paul Pruitt approved stage 1"; `calendars` are the working
    hours of the steps' groups (the time zone of reviewers who chose none)."""
    people = StepPeople(steps, escalation=False)
    messages = []
    for step in steps:
        members = people.reviewers(step)
        barred = policies.barred_people(step) | {step.assignee_id}
        reviewers = [p for p in members if p.pk not in barred]
        left_out = {p.pk for p in members if p.pk in barred}
        messages.extend(
            messages_in_their_zones(
                reviewers,
                step,
                _opened_message(step, because, left_out=left_out),
                team_zone=calendars[step.group_id].zone,
            )
        )
    notify_many(messages)


def group_told(step: ApprovalStep, *, left_out=()) -> dict:
    """What a notice about a step adds to name the group it tells: its group when the step is
    nobody's yet (one notice for the group, `notifications.services.Message`), else nothing."""
    if opened_kind(step) != Kind.GROUP:
        return {}
    return {"group_id": step.group_id, "left_out": frozenset(left_out)}


def _opened_message(step: ApprovalStep, because: str, *, left_out=()) -> Callable[[], dict]:
    opened = (
        f"The {step.get_side_display()} step (stage {step.stage}) of {describe(step)} is open "
        f"for {step.reviewer_label}."
    )
    return lambda: {
        "subject": f"For your decision: {step.subject_label}",
        "lines": [
            f"{because}. {opened}" if because else opened,
            *why_this_step(step),
            f"It is due {formats.due(step.due_at, dated=True)}.",
        ],
        "action": "Review it",
        "url": f"{step.subject.get_absolute_url()}#steps",
        "dedupe_key": f"opened:{step.pk}",
        "kind": opened_kind(step),
        "topic": step_topic(step),
        "chat": True,
        "amount": amount_of(step),
        **group_told(step, left_out=left_out),
    }


def opened_kind(step: ApprovalStep) -> str:
    """A step opening for one named person is theirs ("Assigned to me"); one for a group that
    nobody holds yet is "My group's new items"."""
    return Kind.ASSIGNED if step.user_id else Kind.GROUP


def request_decided(
    purchase_request,
    *,
    outcome: str,
    round: int,
    comment: str = "",
    by=None,
    on_behalf_of=None,
    step: ApprovalStep | None = None,
) -> None:
    who = f"{by}{f' (for {on_behalf_of})' if on_behalf_of else ''}" if by else "Tandem"
    what = f"{purchase_request.number} “{purchase_request.title}”"  # said once, in the subject
    on_step = f" at the {step.reviewer_label} step" if step is not None else ""
    lines = [f"{who} decided{on_step}: your request was {outcome}."]
    if comment:
        lines.append(f"{'Comment' if outcome == 'approved' else 'Reason'}: {quoted(comment)}")
    notify(
        [purchase_request.requester],
        subject=f"{what} {outcome} by {by or 'Tandem'}",
        lines=lines,
        action="Open the request",
        url=purchase_request.get_absolute_url(),
        dedupe_key=f"decided:{purchase_request.pk}:{round}:{purchase_request.state}",
        kind=Kind.OUTCOMES,
        amount=request_amount(purchase_request),
    )


def consultation_asked(consultation: Consultation) -> None:
    step = consultation.step
    notify(
        [consultation.colleague],
        subject=f"{consultation.asked_by} asks your opinion on {step.subject_label}",
        lines=[
            f"{consultation.asked_by} reviews the {step.get_side_display()} step of "
            f"{describe(step)} and asks you: {quoted(consultation.question)}",
            "Your answer is shown to the reviewers on the request; you do not decide the step.",
        ],
        action="Answer",
        url=f"{step.subject.get_absolute_url()}#consultation-{consultation.pk}",
        dedupe_key=f"consultation:{consultation.pk}:asked",
        kind=Kind.ASSIGNED,
        topic=consultation_topic(consultation),
        amount=amount_of(step),
    )


def consultation_answered(consultation: Consultation) -> None:
    step = consultation.step
    notify(
        [consultation.asked_by],
        subject=f"{consultation.colleague} answered your question on {step.subject_label}",
        lines=[
            f"You asked {consultation.colleague}: {quoted(consultation.question, 200)}",
            f"{consultation.colleague} answered: {quoted(consultation.answer)}",
        ],
        action="Open it",
        url=f"{step.subject.get_absolute_url()}#consultation-{consultation.pk}",
        dedupe_key=f"consultation:{consultation.pk}:answered",
        kind=Kind.OUTCOMES,
        amount=amount_of(step),
    )


def consultation_reminder(consultation: Consultation) -> None:
    step = consultation.step
    notify(
        [consultation.colleague],
        subject=f"Reminder: {consultation.asked_by} waits for your opinion on {step.subject_label}",
        lines=[
            f"{consultation.asked_by} asked you on {formats.when(consultation.asked_at)} "
            f"about {describe(step)}: {quoted(consultation.question)}",
            "Your answer helps them decide; you do not decide the step.",
        ],
        action="Answer",
        url=f"{step.subject.get_absolute_url()}#consultation-{consultation.pk}",
        dedupe_key=f"consultation:{consultation.pk}:reminder",
        kind=Kind.REMINDERS,
        topic=consultation_topic(consultation),
        amount=amount_of(step),
    )


def work_item_opened(step: ApprovalStep) -> None:
    """Procurement hears that an approved request is theirs to order; the requester that their
    order is placed and receipt is theirs to confirm."""
    request = step.request

    def message():
        due = f"It is due {formats.due(step.due_at, dated=True)}."
        if step.kind == StepKind.ORDER:
            subject = f"To order: {request.number} {request.title}"
            lines = [
                f"The request from {request.requester} is approved and ready to order.",
                f"Place the order and record its PO number. {due}",
            ]
            action = "Record the order"
        else:
            subject = f"Ordered: {request.number} {request.title}"
            lines = [
                f"Your request was ordered (PO {request.po_number}).",
                f"When it arrives, confirm receipt to close the request. {due}",
            ]
            action = "Confirm receipt"
        return {
            "subject": subject,
            "lines": lines,
            "action": action,
            "url": f"{request.get_absolute_url()}#after-approval",
            "dedupe_key": f"opened:{step.pk}",
            "kind": opened_kind(step),
            "topic": step_topic(step),
            "amount": request_amount(request),
            **group_told(step),
        }

    notify_in_their_zones(reviewers_of(step), step, message)


def step_assigned(step: ApprovalStep, *, by, how: str = "") -> None:
    """The person a step is handed to (by a colleague, or by the group's automatic assignment,
    `how`) hears it at once: it is theirs now, and first in their queue. Settled with the
    step's other notices once it is decided."""
    holder = step.assignee
    what = f"the {step.get_side_display()} step (stage {step.stage}) of {describe(step)}"
    if by is not None:
        subject = f"{by} handed you {step.subject_label}"
        first = f"{by} handed you {what}: it is yours to decide now, first in Waiting for me."
    else:
        subject = f"Assigned to you: {step.subject_label}"
        first = (
            f"{step.reviewer_label} assigns new steps by {how}: {what} is yours to decide, "
            "first in Waiting for me."
        )

    def message():
        return {
            "subject": subject,
            "lines": [
                first,
                *why_this_step(step),
                f"It is due {formats.due(step.due_at, dated=True)}.",
            ],
            "action": "Review it",
            "url": f"{step.subject.get_absolute_url()}#step-{step.pk}",
            "dedupe_key": f"assigned:{step.pk}:{holder.pk}:{step.assigned_at.isoformat()}",
            "kind": Kind.ASSIGNED,
            "topic": step_topic(step),
            "chat": True,
        }

    notify_in_their_zones([holder], step, message)
