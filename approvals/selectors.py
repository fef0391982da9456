"""Reads shared by the approver pages and the API."""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from statistics import median

from django.contrib.auth.models import Group
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DecimalField,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber

from accounts import roles
from accounts.models import User
from accounts.reviewers import reviewer_identity
from accounts.roles import ALL_GROUPS
from budgets import policies as budget_policies
from calendars import selectors as calendar_selectors
from core.formats import badge_count
from core.keyset import BY_AMOUNT_DESC, BY_DUE, Keyset
from core.working_hours import add_working_time, working_time_between
from intake.models import WAITING_ON, PurchaseRequest, State
from intake.selectors import requests_visible_to
from vendors.policies import can_view_vendors

from . import carry_over, policies, routing
from .models import (
    DECIDED_STATES,
    LEADER_OF_SIDE,
    MEMBER_ORDER,
    WORK_ITEM_KINDS,
    ApprovalRule,
    ApprovalStep,
    Consultation,
    Side,
    StepKind,
    StepState,
)
from .subjects import subject_kind


def step_people_lookups(steps_path: str = "") -> list[Prefetch]:
    """What each step's `people_label` needs of its group, in two small queries however large
    the group: its number of active people (`active_count`) and its first two in MEMBER_ORDER
    (`leading_members`: enough to leave the requester out). `steps_path` leads from the rows
    read to the steps ("open_steps__"); the steps themselves say whether their requester is in
    the group (`with_requester_in_group`)."""
    return [
        Prefetch(
            f"{steps_path}group",
            queryset=Group.objects.annotate(
                active_count=Count("user", filter=Q(user__is_active=True))
            ),
        ),
        Prefetch(
            f"{steps_path}group__user_set",
            queryset=User.objects.filter(is_active=True).order_by(*MEMBER_ORDER)[:2],
            to_attr="leading_members",
        ),
    ]


def with_requester_in_group(steps: QuerySet[ApprovalStep]) -> QuerySet[ApprovalStep]:
    """Steps that know whether their request's requester is an active person of their group
    (`requester_in_group`), who is then not counted among the people who can take it."""
    membership = User.groups.through.objects.filter(
        group_id=OuterRef("group_id"),
        user_id=OuterRef("request__requester_id"),
        user__is_active=True,
    )
    return steps.annotate(requester_in_group=Exists(membership))


def waiting_on_lookups() -> list[Prefetch]:
    """The prefetches of "waiting on": a request's open steps (`open_steps`) and the people who
    can take them; for `prefetch_related_objects` over requests already read."""
    return [
        Prefetch(
            "steps",
            queryset=with_requester_in_group(
                ApprovalStep.objects.filter(state=StepState.OPEN).select_related("user")
            ),
            to_attr="open_steps",
        ),
        *step_people_lookups("open_steps__"),
    ]


def with_waiting_on(requests: QuerySet[PurchaseRequest]) -> QuerySet[PurchaseRequest]:
    """Requests with their open steps (`open_steps`) and the people who can take them, for
    "waiting on"."""
    return requests.prefetch_related(*waiting_on_lookups())


def steps_of(subject) -> QuerySet[ApprovalStep]:
    """The steps of a purchase request or of a vendor's review, every round, with the people
    of each step's group (who can take it) and each step's second opinions (`consultations`)."""
    return with_requester_in_group(
        subject.steps.select_related(
            "user", "decided_by", "decided_for", "carried_from", "assignee"
        )
    ).prefetch_related(
        *step_people_lookups(),
        Prefetch(
            "consultations",
            queryset=Consultation.objects.select_related("asked_by", "colleague"),
        ),
    )


def _opaque_to_planner(condition: Q) -> Case:
    """`condition` as a CASE, which PostgreSQL evaluates row by row instead of searching index
    combinations for each branch of its ORs: planned as a plain OR, the four-eyes condition
    took 17–23 ms to plan (and under 1 ms to run) on 300,000 steps. The caller narrows the rows
    with an indexable condition first."""
    return Case(
        When(condition, then=Value(True)), default=Value(False), output_field=BooleanField()
    )


def steps_awaiting(user) -> QuerySet[ApprovalStep]:
    """Open steps waiting for the user, most urgent first: the review steps `can_decide` allows
    (their groups and delegations, never their own requests, four eyes by principal), and their
    work after approval (orders to place, receipts to confirm). Without related rows: a page
    reads them with QUEUE_ROW_RELATIONS."""
    identity = reviewer_identity(user)
    held = Q(group_id__in=identity.all_group_ids) | Q(user_id__in=identity.user_ids)
    return (
        ApprovalStep.objects.filter(held, state=StepState.OPEN)
        .filter(_opaque_to_planner(policies.decidable(user) | policies.work_items(user)))
        .order_by("due_at", "id")
    )


# What a row of the queue shows: read for a page of steps with `prefetch_related_objects`, one
# small query each (joined into the queue's query, they made PostgreSQL plan for 15 ms).
QUEUE_ROW_RELATIONS = (
    "request__requester",
    "request__vendor",
    "request__category",
    "vendor",
    "group",
    "user",
    "assignee",  # no query while nobody holds any of the rows
)


# The orders of the "Waiting for me" queue: most urgent first (the default), longest waiting
# first, most expensive first. Each pages by keyset.
QUEUE_SORTS = {
    "due": BY_DUE,
    "oldest": Keyset(key="opened_at"),
    "cost": BY_AMOUNT_DESC,
}


def filter_queue(steps: QuerySet[ApprovalStep], *, side="", category=None, overdue=False, now):
    """The queue narrowed to one side, one category (vendor reviews have none), or the overdue
    steps."""
    if side:
        steps = steps.filter(side=side)
    if category is not None:
        steps = steps.filter(request__category=category)
    if overdue:
        steps = steps.filter(due_at__lt=now)
    return steps


def sort_queue(steps: QuerySet[ApprovalStep], sort: str) -> tuple[QuerySet, Keyset]:
    """The queue in one of QUEUE_SORTS, with the keyset that pages it."""
    keyset = QUEUE_SORTS.get(sort, BY_DUE)
    if keyset is BY_AMOUNT_DESC:
        # Vendor reviews and requests without a total sort as 0, after every costed one.
        steps = steps.annotate(
            sort_amount=Coalesce(
                "request__total_cost_base", Value(Decimal("0")), output_field=DecimalField()
            )
        )
    return steps.order_by(*keyset.order_by()), keyset


# How many of the steps a person holds "Waiting for me" lists above the queue; with more, the
# queue below lists them too, in its order.
HELD_SHOWN = 50


def held_first(user, steps: QuerySet[ApprovalStep]) -> tuple[list[ApprovalStep], QuerySet]:
    """Whoever holds a step sees it first: of `steps` (the user's queue, filtered and sorted),
    those the user holds ("Yours", up to HELD_SHOWN, in the queue's order), and the rest of the
    queue. With more held than shown, the rest keeps them, so none is hidden."""
    held = list(steps.filter(assignee_id=user.pk)[: HELD_SHOWN + 1])
    if len(held) > HELD_SHOWN:
        return held[:HELD_SHOWN], steps
    return held, steps.exclude(assignee_id=user.pk)


def steps_held_by(user) -> QuerySet[ApprovalStep]:
    """The open steps the user holds and may still decide, most urgent first ("Yours")."""
    return steps_awaiting(user).filter(assignee_id=user.pk)


def next_held_first(user, steps: QuerySet[ApprovalStep]) -> ApprovalStep | None:
    """The next step of the user's queue as `held_first` orders it: theirs first."""
    return steps.filter(assignee_id=user.pk).first() or steps.first()


def queue_neighbour(
    user, steps: QuerySet[ApprovalStep], sort: str, *, kind: str, pk: int, forward: bool
) -> ApprovalStep | None:
    """The step after (`forward`) or before a request or vendor in the user's queue, in the
    order "Waiting for me" lists it (`held_first`: the steps they hold, then the rest, each in
    the queue's `sort`): the j and k of the request page. `steps` is the queue, filtered. A
    subject the user no longer waits on (they just decided it) keeps its place by the step they
    decided. Past either end it goes round to the other; None when nothing else waits."""
    steps, keyset = sort_queue(steps, sort)
    others = steps.exclude(**{f"{kind}_id": pk})
    groups = [others.filter(assignee_id=user.pk), others.exclude(assignee_id=user.pk)]
    order = keyset.order_by()
    if not forward:
        groups.reverse()
        order = [name[1:] if name.startswith("-") else f"-{name}" for name in order]
    candidates = []
    here = _place_in_queue(user, steps, sort, kind=kind, pk=pk)
    if here is not None:
        held, value, step_pk = here
        index = (0 if held else 1) if forward else (1 if held else 0)
        ahead = "gt" if forward != keyset.descending else "lt"
        beyond = Q(**{f"{keyset.key}__{ahead}": value}) | Q(
            **{keyset.key: value, f"id__{ahead}": step_pk}
        )
        candidates += [groups[index].filter(beyond), *groups[index + 1 :]]
    for candidate in [*candidates, *groups]:  # then round from the other end
        found = candidate.order_by(*order).first()
        if found is not None:
            return found
    return None


def _place_in_queue(user, steps, sort: str, *, kind: str, pk: int) -> tuple | None:
    """Where a subject stands in the user's sorted queue: (held by them, sort key, step id) of
    its step there, or of the step they decided last on it; None when they have neither."""
    keyset = QUEUE_SORTS.get(sort, BY_DUE)
    step = steps.filter(**{f"{kind}_id": pk}).first()
    if step is None:
        decided, _ = sort_queue(
            ApprovalStep.objects.filter(**{f"{kind}_id": pk}, decided_by=user), sort
        )
        step = decided.order_by("-decided_at", "-id").first()
    if step is None or getattr(step, keyset.key) is None:
        return None
    return step.assignee_id == user.pk, getattr(step, keyset.key), step.pk


def awaiting_count(user) -> int | str:
    """How many things wait for the user, for the navigation's badge (up to 99, then "99+"):
    the steps they may decide or work on and the questions colleagues asked them, as the
    "Waiting for me" page lists both. One query: the two lists' rows in one UNION ALL."""
    steps = steps_awaiting(user).order_by().values_list("pk")
    questions = (
        Consultation.objects.filter(
            colleague=user, answered_at__isnull=True, step__state=StepState.OPEN
        )
        .order_by()
        .values_list("pk")
    )
    return badge_count(steps.union(questions, all=True))


def team_steps(*, side="", stage=None) -> QuerySet[ApprovalStep]:
    """Every open step, for the leaders' team view, narrowed by side and stage."""
    steps = open_steps_for_team()
    if side:
        steps = steps.filter(side=side)
    if stage:
        steps = steps.filter(stage=stage)
    return steps


def team_breakdown(now: datetime) -> list[dict]:
    """Open steps counted by stage and side, with those past due: one grouped query."""
    rows = (
        ApprovalStep.objects.filter(state=StepState.OPEN)
        .values("stage", "side")
        .annotate(count=Count("id"), breached=Count("id", filter=Q(due_at__lt=now)))
        .order_by("stage", "side")
    )
    return [{**row, "side_label": Side(row["side"]).label} for row in rows]


def holders(steps: list[ApprovalStep], shown: int = 3) -> dict[int, str]:
    """Who holds each step, in people's names: the named reviewer, or the members of its group
    ("Ivan Ito, Irene Ives, Ian Irwin or 3 others"). One query for the whole page."""
    group_ids = {step.group_id for step in steps if step.group_id}
    members: dict[int, list[str]] = {}
    if group_ids:
        people = (
            User.objects.filter(groups__in=group_ids, is_active=True)
            .values_list("groups", "first_name", "last_name", "username")
            .order_by("first_name", "last_name", "username")
        )
        for group_id, first, last, username in people:
            members.setdefault(group_id, []).append(f"{first} {last}".strip() or username)
    named = {}
    for step in steps:
        if step.assignee_id:
            named[step.pk] = f"{step.assignee} (took it)"
            continue
        if step.user_id:
            named[step.pk] = str(step.user)
            continue
        names = members.get(step.group_id, [])
        named[step.pk] = (
            roles.names_phrase(names, shown=shown) or "nobody: the group has no members"
        )
    return named


AGEING_BUCKETS = (("under 2 days", 0, 2), ("2–5 days", 2, 5), ("over 5 days", 5, None))


def open_steps_for_team() -> QuerySet[ApprovalStep]:
    return (
        ApprovalStep.objects.filter(state=StepState.OPEN)
        .select_related(
            "request",
            "request__requester",
            "request__vendor",
            "vendor",
            "group",
            "user",
            "assignee",
        )  # fmt: skip
        .order_by("due_at", "id")
    )


def ageing(now: datetime) -> list[dict]:
    """Open steps counted by how long they have been open, with SLA breaches, in one query."""
    counts = {}
    for index, (_, low, high) in enumerate(AGEING_BUCKETS):
        in_bucket = Q(opened_at__lte=now - timedelta(days=low))
        if high is not None:
            in_bucket &= Q(opened_at__gt=now - timedelta(days=high))
        counts[f"count_{index}"] = Count("id", filter=in_bucket)
        counts[f"breached_{index}"] = Count("id", filter=in_bucket & Q(due_at__lt=now))
    totals = ApprovalStep.objects.filter(state=StepState.OPEN).aggregate(**counts)
    return [
        {"label": label, "count": totals[f"count_{i}"], "breached": totals[f"breached_{i}"]}
        for i, (label, _, _) in enumerate(AGEING_BUCKETS)
    ]


def rules_for_admin() -> QuerySet[ApprovalRule]:
    return ApprovalRule.objects.select_related(
        "reviewer_group", "reviewer_user", "escalation_group", "escalation_user"
    ).prefetch_related("categories", "departments")


def steps_visible_to(user) -> QuerySet[ApprovalStep]:
    """Steps of the requests the user may see, and of vendor reviews for reviewers and admins."""
    visible = Q(request__in=requests_visible_to(user).values("pk"))
    if can_view_vendors(user):
        visible |= Q(vendor__isnull=False)
    return ApprovalStep.objects.filter(visible)


def consultations_visible_to(user) -> QuerySet[Consultation]:
    """Second opinions on the steps the user may see."""
    return Consultation.objects.filter(step__in=steps_visible_to(user).values("pk")).select_related(
        "step", "step__group", "step__user", "asked_by", "colleague"
    )


def consultations_awaiting(user) -> QuerySet[Consultation]:
    """Questions asked of the user and not answered yet, on steps still open, oldest first."""
    return (
        Consultation.objects.filter(
            colleague=user, answered_at__isnull=True, step__state=StepState.OPEN
        )
        .select_related("step")
        # Read for the rows found (mostly none): joined in, they cost PostgreSQL 15 ms of
        # planning on every page.
        .prefetch_related(
            "asked_by", "step__group", "step__user", "step__request__requester", "step__vendor"
        )
        .order_by("asked_at", "id")
    )


def colleagues_to_ask(user, step: ApprovalStep) -> list:
    """Whom `user` may ask about `step`: active reviewers and leaders, never themself or the
    requester (as `policies.can_be_consulted` says), by name."""
    candidates = (
        User.objects.filter(is_active=True, groups__name__in=ALL_GROUPS)
        .exclude(pk=user.pk)
        .exclude(pk__in=policies.barred_people(step))
        .distinct()
        .order_by("first_name", "last_name", "username")
    )
    return list(candidates)


def may_decide_by_step(steps: list[ApprovalStep]) -> dict[int, list]:
    """For each of `steps`, the people who may decide it by their own membership, by name: the
    named reviewer or the group's active people, never the requester (or whoever is barred from
    a vendor review), never somebody four eyes bars (decided on the other side). What
    `policies.can_be_assigned` allows, as one query for all the steps; delegates are left out
    (the policy still allows them, by username through the API)."""
    group_ids = {step.group_id for step in steps if step.group_id}
    members: dict[int, list] = {}
    if group_ids:
        memberships = (
            User.groups.through.objects.filter(group_id__in=group_ids, user__is_active=True)
            .select_related("user")
            .order_by(*(f"user__{field}" for field in MEMBER_ORDER))
        )
        for membership in memberships:
            members.setdefault(membership.group_id, []).append(membership.user)
    people = {}
    for step in steps:
        candidates = members.get(step.group_id, []) if step.group_id else [step.user]
        barred = policies.barred_people(step)
        other_side = policies.other_side_people(step)
        people[step.pk] = [
            person
            for person in candidates
            if person.is_active and person.pk not in barred and person.pk not in other_side
        ]
    return people


def colleagues_who_may_decide(step: ApprovalStep) -> list:
    """The people a step can be handed to ("Hand to…"), by name."""
    return may_decide_by_step([step])[step.pk]


@dataclass(frozen=True)
class ConsultationPanel:
    consultation: Consultation
    may_answer: bool


@dataclass(frozen=True)
class StepPanel:
    """A step as the request page shows it to one user: may they decide it, and if not, why;
    its second opinions, and whom the user may ask when they may decide it."""

    step: ApprovalStep
    may_decide: bool
    reason: str = ""
    consultations: tuple = ()
    colleagues: tuple = ()
    # Who holds it: may the user take it, release it, hand it on (to one of `assignable`).
    may_take: bool = False
    may_release: bool = False
    may_assign: bool = False
    assignable: tuple = ()


@dataclass(frozen=True)
class EarlierRound:
    round: int
    steps: list[ApprovalStep]


def earlier_rounds(subject) -> list[EarlierRound]:
    """The review steps of every round before the latest, newest first (the steps panel shows
    them collapsed)."""
    steps = list(steps_of(subject).filter(kind=StepKind.REVIEW).order_by("-round", "stage", "side"))
    if not steps:
        return []
    latest = steps[0].round
    rounds: dict[int, list[ApprovalStep]] = {}
    for step in steps:
        if step.round != latest:
            rounds.setdefault(step.round, []).append(step)
    return [EarlierRound(number, members) for number, members in rounds.items()]


def work_after_approval(purchase_request) -> list[ApprovalStep]:
    """The order and receipt items of a request, in the order they came."""
    return list(
        steps_of(purchase_request).filter(kind__in=WORK_ITEM_KINDS).order_by("opened_at", "id")
    )


def decision_panels(subject, user) -> list[StepPanel]:
    """The review steps of the latest round of a request or a vendor review, each with the
    user's right to decide it."""
    steps = list(steps_of(subject).filter(kind=StepKind.REVIEW).order_by("-round", "stage", "side"))
    if not steps:
        return []
    latest = steps[0].round
    identity = reviewer_identity(user)
    panels = []
    colleagues = None
    for step in (s for s in steps if s.round == latest):
        subject_kind(step)(subject).attach(step)
        is_open = step.state == StepState.OPEN
        consultations = tuple(
            ConsultationPanel(c, is_open and not c.is_answered and c.colleague_id == user.pk)
            for c in step.consultations.all()
        )
        if not is_open:
            reason = policies.why_not_open(step) if step.state == StepState.WAITING else ""
            panels.append(StepPanel(step, False, reason, consultations))
            continue
        verdict = policies.can_decide(user, step, identity)
        if verdict.allowed and colleagues is None:
            colleagues = tuple(colleagues_to_ask(user, step))  # the same for every step
        panels.append(
            StepPanel(
                step,
                verdict.allowed,
                verdict.reason,
                consultations,
                colleagues if verdict.allowed else (),
                **_hold_actions(user, step, verdict, identity),
            )
        )
    return _with_assignable(panels)


def _hold_actions(user, step: ApprovalStep, verdict, identity) -> dict:
    """What the user may do with who holds an open step (the policies say; the services check
    again)."""
    held_by_other = bool(policies.held_by_another(user, step))
    may_assign = policies.can_assign(user, step, identity).allowed and (
        not held_by_other or policies.leads_side(user, step)
    )
    return {
        "may_take": verdict.allowed and step.assignee_id != user.pk and not held_by_other,
        "may_release": bool(step.assignee_id) and policies.can_release(user, step).allowed,
        "may_assign": may_assign,
    }


def _with_assignable(panels: list[StepPanel]) -> list[StepPanel]:
    """The people each panel's step may be handed to, read at once for every step."""
    wanted = [panel.step for panel in panels if panel.may_assign]
    if not wanted:
        return panels
    people = may_decide_by_step(wanted)
    return [
        replace(
            panel,
            assignable=tuple(p for p in people[panel.step.pk] if p.pk != panel.step.assignee_id),
        )
        if panel.may_assign
        else panel
        for panel in panels
    ]


def rule_preview(
    *, purchase_request=None, draft: dict | None = None, with_budget=True, viewer=None
) -> routing.RoutingPlan:
    """The steps a request (or a draft's facts) would get under today's rules, and why: what the
    rule preview page and `/api/rules/preview/` both show. The request's budget is left out for
    a `viewer` who may not see it (budgets.policies.can_see_budget), or when `with_budget` is
    False: an overrun would otherwise show through the steps it adds."""
    if purchase_request is not None and viewer is not None:
        with_budget = budget_policies.can_see_budget(
            viewer, purchase_request.department_id, purchase_request=purchase_request
        ).allowed
    if purchase_request is not None:
        facts = routing.RequestFacts.of(purchase_request, with_budget=with_budget)
    else:
        facts = routing.facts_from_draft(draft or {})
    return routing.plan(facts)


def four_eyes_warnings(plan: routing.RoutingPlan) -> list[str]:
    """What the rule preview warns an admin of (SPEC §3): a reviewer group of the plan too small
    to keep four eyes. With nobody active in it, its steps go to the side's leader at once; with
    one person, whenever that person filed the request, proposed its vendor or decided the other
    side. One query."""
    groups = {step.group for step in [*plan.vendor_steps, *plan.steps] if step.group is not None}
    if not groups:
        return []
    members = {}
    people = User.objects.filter(is_active=True, groups__in=groups).order_by(*MEMBER_ORDER)
    for group_id, person in ((p.group_id, p) for p in people.annotate(group_id=F("groups"))):
        members.setdefault(group_id, []).append(person)
    warnings = []
    for group in sorted(groups, key=lambda g: g.name):
        label = roles.group_label(group.name)
        side = next(s.side for s in [*plan.vendor_steps, *plan.steps] if s.group == group)
        leader = roles.group_label(LEADER_OF_SIDE[side])
        if group.name == LEADER_OF_SIDE[side]:
            continue  # the leader's own step: nobody above it to send it to
        people = members.get(group.pk, [])
        if not people:
            warnings.append(f"Nobody active is in {label}: its steps go to the {leader} at once.")
        elif len(people) == 1:
            warnings.append(
                f"{label} has one person, {people[0]}: when {people[0]} filed the request, "
                f"proposed its vendor or decided its other side, the step goes to the {leader} "
                "(four eyes). Add a second person to keep the step in the group."
            )
    return warnings


# How far back, how many at least and at most per group, the past decisions that predict how
# long a group takes on a category (expected_route).
HISTORY_DAYS = 180
HISTORY_MINIMUM = 3
HISTORY_SAMPLE = 50


@dataclass(frozen=True)
class ExpectedStep:
    """A planned step as the request form shows it before submit: who would decide it, and
    when that is expected."""

    step: routing.PlannedStep
    people: str  # who would decide it, by name, never the requester
    working_time: timedelta  # expected working time from its stage's start to its decision
    decisions: int  # how many past decisions `working_time` is the median of; 0: the SLA
    expected_at: datetime

    @property
    def working_hours(self) -> int:
        """The expected working time in whole hours, at least one."""
        return max(1, round(self.working_time / timedelta(hours=1)))


@dataclass(frozen=True)
class ExpectedStage:
    number: int | None  # None: the vendor's joint review, before the request's stages
    steps: list[ExpectedStep]
    expected_at: datetime  # when its slowest step is expected to be decided


def expected_route(
    plan: routing.RoutingPlan, *, category_id=None, requester_id=None, start: datetime
) -> list[ExpectedStage]:
    """The plan's stages in order (the vendor's review first, when it has one), each step with
    the people who would decide it and when it is expected: what the request form says before
    submit ("Ivan Ito or Ines Ives by Monday 14 Dec 2026, then ...").

    A step is expected to take what its reviewer group took on requests of the same category:
    the median working time from opening to decision of the group's decided review steps of the
    last HISTORY_DAYS days (the latest HISTORY_SAMPLE), when there are at least HISTORY_MINIMUM
    of them; otherwise its rule's SLA. Time counts on the group's working-hours calendar, as
    due times do. A stage starts when the one before is expected to end, and ends when its
    slowest step is expected to. The people are the group's active members but the requester
    (four eyes), or the named reviewer. Five queries at most, whatever the number of steps."""
    planned = [*plan.vendor_steps, *plan.steps]
    group_ids = {step.group.pk for step in planned if step.group is not None}
    calendars = calendar_selectors.working_hours_by_group(group_ids)
    people = _people_by_group(group_ids, leave_out=requester_id)
    history = _past_working_times(group_ids, category_id, calendars, since=start)
    stages = [(None, plan.vendor_steps)] if plan.vendor_steps else []
    numbers = sorted({step.stage for step in plan.steps})
    stages += [(n, [s for s in plan.steps if s.stage == n]) for n in numbers]
    route, begins = [], start
    for number, steps in stages:
        expected = []
        for step in steps:
            group_id = step.group.pk if step.group is not None else None
            # A vendor's review has no category: its steps go by their SLA.
            past = history.get(group_id, []) if number is not None else []
            if len(past) >= HISTORY_MINIMUM:
                working_time = median(past)
            else:
                working_time, past = timedelta(hours=step.sla_hours), []
            expected.append(
                ExpectedStep(
                    step=step,
                    people=_people_of(step, people),
                    working_time=working_time,
                    decisions=len(past),
                    expected_at=add_working_time(begins, working_time, calendars[group_id]),
                )
            )
        begins = max(each.expected_at for each in expected)
        route.append(ExpectedStage(number=number, steps=expected, expected_at=begins))
    return route


def _people_by_group(group_ids, *, leave_out) -> dict[int, list[str]]:
    """The active people of each group by name (MEMBER_ORDER), without `leave_out`. One query."""
    if not group_ids:
        return {}
    members: dict[int, list[str]] = {}
    rows = (
        User.groups.through.objects.filter(group_id__in=group_ids, user__is_active=True)
        .exclude(user_id=leave_out)
        .select_related("user")
        .order_by(*(f"user__{field}" for field in MEMBER_ORDER))
    )
    for membership in rows:
        members.setdefault(membership.group_id, []).append(str(membership.user))
    return members


def _people_of(step: routing.PlannedStep, people: dict[int, list[str]]) -> str:
    """Who would decide a planned step, in names_phrase's words; with nobody left in its group,
    its side's leader, as routing sends it (SPEC §3)."""
    if step.group is None:
        return str(step.user)
    named = roles.names_phrase(people.get(step.group.pk, []), shown=2)
    if named:
        return named
    leader = LEADER_OF_SIDE.get(step.side)
    if leader and leader != step.group.name:
        return f"the {roles.group_label(leader)}, as nobody else can"
    return "nobody yet"


def _past_working_times(group_ids, category_id, calendars, *, since) -> dict[int, list]:
    """The working time each group took to decide its latest review steps (at most
    HISTORY_SAMPLE) on requests of the category, decided in the HISTORY_DAYS before `since`.
    Carried-over approvals, never reviewed in their round, are left out. One query."""
    if not group_ids or category_id is None:
        return {}
    latest = Window(RowNumber(), partition_by=[F("group_id")], order_by=F("decided_at").desc())
    rows = (
        ApprovalStep.objects.filter(
            kind=StepKind.REVIEW,
            request__category_id=category_id,
            group_id__in=group_ids,
            state__in=DECIDED_STATES,
            carried_from__isnull=True,
            opened_at__isnull=False,
            decided_at__gte=since - timedelta(days=HISTORY_DAYS),
            decided_at__lte=since,
        )
        .annotate(latest=latest)
        .filter(latest__lte=HISTORY_SAMPLE)
        .values_list("group_id", "opened_at", "decided_at")
    )
    taken: dict[int, list] = {}
    for group_id, opened_at, decided_at in rows:
        taken.setdefault(group_id, []).append(
            working_time_between(opened_at, decided_at, calendars[group_id])
        )
    return taken


@dataclass(frozen=True)
class ResubmitEffect:
    """What resubmitting a request sent back would restart, by the rule of approvals.carry_over:
    the material changes in words (none: not material), whether approvals carry over at all
    (the admin's setting), and of the steps the request would get, those whose approval carries
    over (with it) and those asked (again)."""

    changes: list[str]
    enabled: bool
    carried: list[tuple[ExpectedStep, ApprovalStep]]
    asked: list[ExpectedStep]

    @property
    def material(self) -> bool:
        return bool(self.changes)


def resubmit_effect(purchase_request, draft, route: list[ExpectedStage]) -> ResubmitEffect | None:
    """What resubmitting `purchase_request` with the request form's unsaved values (`draft`, an
    unsaved PurchaseRequest) would restart, for the steps of `route` (expected_route of the
    draft's plan): the last round's snapshot compared with the draft by
    `carry_over.material_changes`, the approvals that carry over by `plan_carry_over`. None for
    a request never submitted. Four queries."""
    previous_round = carry_over.last_round(purchase_request)
    if not previous_round:
        return None
    carrying = carry_over.plan_carry_over(
        purchase_request,
        previous_round=previous_round,
        snapshot=carry_over.snapshot_of(draft, round=previous_round + 1),
    )
    carried, asked = [], []
    steps = [each for stage in route if stage.number is not None for each in stage.steps]
    for each in steps:
        key = (
            each.step.group.pk if each.step.group is not None else None,
            getattr(each.step.user, "pk", None),
            each.step.stage,
        )
        approval = carrying.approvals.get(key)
        if approval is None:
            asked.append(each)
        else:
            carried.append((each, approval))
    return ResubmitEffect(
        changes=carrying.material_changes, enabled=carrying.enabled, carried=carried, asked=asked
    )


# The states in which a request waits on its requester.
REQUESTER_WAITS = (State.DRAFT, State.CHANGES_REQUESTED, State.ORDERED)


@dataclass(frozen=True)
class VendorWait:
    """A request held by its vendor's joint review: the vendor, who decides the review's open
    steps ("Paul Procurement or Ivan Ito", "you" for a reader who holds one), and whether the
    reader may open the vendor's page."""

    vendor: object
    deciders: str
    linked: bool

    @property
    def verb(self) -> str:
        single = self.deciders != "you" and " or " not in self.deciders
        return "decides" if single and "," not in self.deciders else "decide"

    def __str__(self) -> str:
        return f"Waiting on the vendor review of {self.vendor.name}: {self.deciders} {self.verb}"


def _with_open_steps(requests) -> set[int]:
    """Which of `requests` have open steps of their own: from `open_steps` when a list
    prefetched it (`with_waiting_on`), else one query."""
    if all(hasattr(pr, "open_steps") for pr in requests):
        return {pr.pk for pr in requests if pr.open_steps}
    return set(
        ApprovalStep.objects.filter(
            request_id__in=[pr.pk for pr in requests], state=StepState.OPEN
        ).values_list("request_id", flat=True)
    )


def vendor_waits(requests, reader) -> dict[int, VendorWait]:
    """For each of `requests` in review whose routing put its vendor's joint review first (none
    of its own steps open while the vendor's review steps are), the wait: none when no request
    is, else three queries for a page of requests (one fewer after `with_waiting_on`)."""
    candidates = {
        pr.pk: pr.vendor_id for pr in requests if pr.state == State.IN_REVIEW and pr.vendor_id
    }
    if not candidates:
        return {}
    own_open = _with_open_steps([pr for pr in requests if pr.pk in candidates])
    vendor_ids = {v for pk, v in candidates.items() if pk not in own_open}
    if not vendor_ids:
        return {}
    steps = list(
        ApprovalStep.objects.filter(
            vendor_id__in=vendor_ids, state=StepState.OPEN, kind=StepKind.REVIEW
        )
        .select_related("vendor", "user", "assignee")
        .order_by("side", "pk")
    )
    if not steps:
        return {}
    names = holders(steps)
    identity = reviewer_identity(reader)
    by_vendor: dict[int, list[str]] = {}
    for step in steps:
        # A step someone took is theirs; otherwise it is everyone's who may hold it.
        if step.assignee_id:
            yours = step.assignee_id == reader.pk
        else:
            yours = step.group_id in identity.all_group_ids or step.user_id in identity.user_ids
        phrases = by_vendor.setdefault(step.vendor_id, [])
        phrase = "you" if yours else names[step.pk]
        # A group with nobody in it names nobody (its step goes to the side's leader).
        if phrase not in phrases and not phrase.startswith("nobody"):
            phrases.append(phrase)
    vendors = {step.vendor_id: step.vendor for step in steps}
    linked = bool(can_view_vendors(reader))
    return {
        pk: VendorWait(vendors[v], roles.names_phrase(by_vendor[v], shown=9), linked)
        for pk, v in candidates.items()
        if by_vendor.get(v) and pk not in own_open
    }


def waiting_on_for(purchase_request, reader) -> str:
    """ "Waiting on" in the reader's words: "You, to submit the draft" for its requester, "You
    (IT review)" for whom an open step waits on; otherwise as everyone reads it (`waiting_on`).
    Reads the open steps a list prefetched (`with_waiting_on`)."""
    state = purchase_request.state
    if state in REQUESTER_WAITS and reader.pk == purchase_request.requester_id:
        return WAITING_ON[state].format(requester="You")
    open_steps = getattr(purchase_request, "open_steps", None)
    if state != State.IN_REVIEW or not open_steps or not reader.pk:
        return purchase_request.waiting_on
    identity = reviewer_identity(reader)
    return "; ".join(
        f"You ({step.reviewer_label})"
        if step.group_id in identity.all_group_ids or step.user_id in identity.user_ids
        else step.people_label
        for step in open_steps
    )
