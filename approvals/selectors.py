"""Reads shared by the approver pages and the API."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Count, DecimalField, Exists, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts import roles
from accounts.models import Delegation
from core.keyset import BY_AMOUNT_DESC, BY_DUE, Keyset
from intake.models import PurchaseRequest

from .models import ApprovalRule, ApprovalStep, Side, StepState

JOINT_SIDES = (Side.IT, Side.PROCUREMENT)


@dataclass
class ReviewerIdentity:
    """Whose reviewing rights a user holds right now: their own, and those of every delegator
    whose out-of-office window is open."""

    user: object
    group_ids: set[int] = field(default_factory=set)
    # delegator -> their group ids
    delegators: dict = field(default_factory=dict)

    @property
    def all_group_ids(self) -> set[int]:
        return (
            self.group_ids.union(*self.delegators.values()) if self.delegators else self.group_ids
        )

    @property
    def user_ids(self) -> set[int]:
        return {self.user.pk, *(d.pk for d in self.delegators)}

    def principal_for(self, step: ApprovalStep):
        """The user whose rights decide `step`: the user, a delegator, or None."""
        if step.user_id == self.user.pk or (step.group_id and step.group_id in self.group_ids):
            return self.user
        for delegator, group_ids in self.delegators.items():
            if step.user_id == delegator.pk or (step.group_id and step.group_id in group_ids):
                return delegator
        return None

    def step_filter(self) -> Q:
        return Q(group_id__in=self.all_group_ids) | Q(user_id__in=self.user_ids)


def reviewer_identity(user, now: datetime) -> ReviewerIdentity:
    cached = getattr(user, "_reviewer_identity", None)
    if cached is not None:
        return cached
    identity = ReviewerIdentity(user=user)
    if user.pk:
        identity.group_ids = roles.group_ids(user)
        delegations = Delegation.objects.filter(
            delegate=user, starts_at__lte=now, ends_at__gt=now
        ).select_related("delegator")
        for delegation in delegations:
            identity.delegators[delegation.delegator] = set(
                delegation.delegator.groups.values_list("pk", flat=True)
            )
    user._reviewer_identity = identity
    return identity


def steps_of(subject) -> QuerySet[ApprovalStep]:
    """The steps of a purchase request or of a vendor's review, every round."""
    return subject.steps.select_related("group", "user", "decided_by", "decided_for")


def steps_awaiting(user) -> QuerySet[ApprovalStep]:
    """Open steps the user may decide (their groups, their delegations), most urgent first.
    Leaves out their own requests and sides they may not take (four eyes)."""
    identity = reviewer_identity(user, timezone.now())
    decided_other_joint_side = (
        ApprovalStep.objects.filter(decided_by=user, side__in=JOINT_SIDES)
        .filter(
            Q(request__isnull=False, request=OuterRef("request"))
            | Q(vendor__isnull=False, vendor=OuterRef("vendor"))
        )
        .exclude(side=OuterRef("side"))
    )
    return (
        ApprovalStep.objects.filter(identity.step_filter(), state=StepState.OPEN)
        # The user's own requests as a small subquery, not a join with every request.
        .exclude(request__in=PurchaseRequest.objects.filter(requester=user).values("pk"))
        .exclude(Q(side__in=JOINT_SIDES) & Exists(decided_other_joint_side))
        .select_related(
            "request",
            "request__requester",
            "request__vendor",
            "request__category",
            "vendor",
            "group",
            "user",
        )
        .order_by("due_at", "id")
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


def awaiting_count(user, cap: int = 99) -> int:
    """How many steps wait for the user (counted up to `cap` + 1, shown as "99+"), for the
    navigation."""
    return steps_awaiting(user).order_by()[: cap + 1].count()


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
    ("Ivan Ito, Irene Ives and 3 others"). One query for the whole page."""
    from django.contrib.auth import get_user_model

    group_ids = {step.group_id for step in steps if step.group_id}
    members: dict[int, list[str]] = {}
    if group_ids:
        people = (
            get_user_model()
            .objects.filter(groups__in=group_ids, is_active=True)
            .values_list("groups", "first_name", "last_name", "username")
            .order_by("first_name", "last_name", "username")
        )
        for group_id, first, last, username in people:
            members.setdefault(group_id, []).append(f"{first} {last}".strip() or username)
    named = {}
    for step in steps:
        if step.user_id:
            named[step.pk] = str(step.user)
            continue
        names = members.get(step.group_id, [])
        if not names:
            named[step.pk] = "nobody: the group has no members"
        elif len(names) <= shown:
            named[step.pk] = ", ".join(names[:-1]) + (" or " if len(names) > 1 else "") + names[-1]
        else:
            named[step.pk] = f"{', '.join(names[:shown])} or {len(names) - shown} others"
    return named


AGEING_BUCKETS = (("under 2 days", 0, 2), ("2–5 days", 2, 5), ("over 5 days", 5, None))


def open_steps_for_team() -> QuerySet[ApprovalStep]:
    return (
        ApprovalStep.objects.filter(state=StepState.OPEN)
        .select_related(
            "request", "request__requester", "request__vendor", "vendor", "group", "user"
        )
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
    from intake.selectors import requests_visible_to
    from vendors.policies import can_view_vendors

    visible = Q(request__in=requests_visible_to(user).values("pk"))
    if can_view_vendors(user):
        visible |= Q(vendor__isnull=False)
    return ApprovalStep.objects.filter(visible)
