"""Reads shared by the approver pages and the API."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from accounts import roles
from accounts.models import Delegation, User
from intake.models import PurchaseRequest

from .models import MEMBER_ORDER, ApprovalRule, ApprovalStep, Side, StepState

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
    """The steps of a purchase request or of a vendor's review, every round, with the people
    of each step's group (who can take it)."""
    return subject.steps.select_related(
        "group", "user", "decided_by", "decided_for"
    ).prefetch_related(
        Prefetch(
            "group__user_set",
            queryset=User.objects.filter(is_active=True).order_by(*MEMBER_ORDER),
            to_attr="active_members",
        )
    )


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
            "request", "request__requester", "request__vendor", "vendor", "group", "user"
        )
        .order_by("due_at", "id")
    )


AGEING_BUCKETS = (("under 2 days", 0, 2), ("2–5 days", 2, 5), ("over 5 days", 5, None))


def open_steps_for_team() -> QuerySet[ApprovalStep]:
    return (
        ApprovalStep.objects.filter(state=StepState.OPEN)
        .select_related("request", "request__requester", "vendor", "group", "user")
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
