"""Reads shared by the approver pages and the API."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, Prefetch, Q, QuerySet

from accounts.reviewers import reviewer_identity
from accounts.roles import ALL_GROUPS
from intake.models import PurchaseRequest
from intake.selectors import requests_visible_to
from vendors.policies import can_view_vendors

from . import policies
from .models import ApprovalRule, ApprovalStep, Consultation, StepState


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
    """The steps of a purchase request or of a vendor's review, every round, each with its
    second opinions (`consultations`) in one more query."""
    return subject.steps.select_related(
        "group", "user", "decided_by", "decided_for"
    ).prefetch_related(
        Prefetch(
            "consultations",
            queryset=Consultation.objects.select_related("asked_by", "colleague"),
        )
    )


def steps_awaiting(user) -> QuerySet[ApprovalStep]:
    """Open steps the user may decide, most urgent first: exactly those `can_decide` allows
    (their groups and delegations, never their own requests, four eyes by principal)."""
    return (
        policies.decidable_steps(user)
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
        .select_related(
            "asked_by",
            "step",
            "step__group",
            "step__user",
            "step__request",
            "step__request__requester",
            "step__vendor",
        )
        .order_by("asked_at", "id")
    )


def colleagues_to_ask(user, step: ApprovalStep) -> list:
    """Whom `user` may ask about `step`: active reviewers and leaders, never themself or the
    requester (as `policies.can_be_consulted` says), by name."""
    candidates = (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=ALL_GROUPS)
        .exclude(pk=user.pk)
        .exclude(pk__in=policies.barred_people(step))
        .distinct()
        .order_by("first_name", "last_name", "username")
    )
    return list(candidates)


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


def decision_panels(subject, user) -> list[StepPanel]:
    """The steps of the latest round of a request or a vendor review, each with the user's right
    to decide it."""
    steps = list(steps_of(subject).order_by("-round", "stage", "side"))
    if not steps:
        return []
    latest = steps[0].round
    identity = reviewer_identity(user)
    panels = []
    colleagues = None
    for step in (s for s in steps if s.round == latest):
        if step.request_id:
            step.request = subject
        else:
            step.vendor = subject
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
            )
        )
    return panels
