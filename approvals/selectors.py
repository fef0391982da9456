"""Reads shared by the approver pages and the API."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Prefetch, Q, QuerySet

from accounts.reviewers import reviewer_identity
from intake.models import PurchaseRequest
from intake.selectors import requests_visible_to
from vendors.policies import can_view_vendors

from . import policies
from .models import WORK_ITEM_KINDS, ApprovalRule, ApprovalStep, StepKind, StepState


def with_waiting_on(requests: QuerySet[PurchaseRequest]) -> QuerySet[PurchaseRequest]:
    """Requests with their open steps (`open_steps`), for "waiting on", in one more query."""
    return requests.prefetch_related(
        Prefetch(
            "steps",
            queryset=ApprovalStep.objects.filter(state=StepState.OPEN).select_related(
                "group", "user"
            ),
            to_attr="open_steps",
        )
    )


def steps_of(subject) -> QuerySet[ApprovalStep]:
    """The steps of a purchase request or of a vendor's review, every round."""
    return subject.steps.select_related(
        "group", "user", "decided_by", "decided_for", "carried_from"
    )


def steps_awaiting(user) -> QuerySet[ApprovalStep]:
    """Open steps waiting for the user, most urgent first: the review steps `can_decide` allows
    (their groups and delegations, never their own requests, four eyes by principal), and their
    work after approval (orders to place, receipts to confirm)."""
    return (
        ApprovalStep.objects.filter(policies.decidable(user) | policies.work_items(user))
        .filter(state=StepState.OPEN)
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
    visible = Q(request__in=requests_visible_to(user).values("pk"))
    if can_view_vendors(user):
        visible |= Q(vendor__isnull=False)
    return ApprovalStep.objects.filter(visible)


@dataclass(frozen=True)
class StepPanel:
    """A step as the request page shows it to one user: may they decide it, and if not, why."""

    step: ApprovalStep
    may_decide: bool
    reason: str = ""


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
    for step in (s for s in steps if s.round == latest):
        if step.request_id:
            step.request = subject
        else:
            step.vendor = subject
        if step.state != StepState.OPEN:
            panels.append(
                StepPanel(
                    step,
                    False,
                    policies.why_not_open(step) if step.state == StepState.WAITING else "",
                )
            )
            continue
        verdict = policies.can_decide(user, step, identity)
        panels.append(StepPanel(step, verdict.allowed, verdict.reason))
    return panels
