"""Reads shared by pages and API, with the joins they need so lists stay O(1) in queries."""

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from accounts.roles import PROCUREMENT_SIDE, has_role, sees_everything
from approvals.models import ApprovalStep, StepState
from approvals.selectors import reviewer_identity
from audit.models import AuditEvent

from .models import Comment, PurchaseRequest, State

# Requests procurement must act on once decided: place the order, follow it to receipt.
ORDERING_STATES = (State.APPROVED, State.ORDERED, State.CLOSED)


def visibility(user) -> Q:
    """Which requests a user may see (SPEC §9): requesters their own; reviewers those with a
    step for their groups or delegations; procurement also the approved ones it orders; CIO,
    CPO and admins all. The one definition pages, API and policies share."""
    if sees_everything(user):
        return Q()
    identity = reviewer_identity(user, timezone.now())
    visible = Q(requester=user)
    if identity.all_group_ids or identity.delegators:
        steps = ApprovalStep.objects.filter(identity.step_filter(), request=OuterRef("pk"))
        visible |= Q(Exists(steps))
    if has_role(user, *PROCUREMENT_SIDE):
        visible |= Q(state__in=ORDERING_STATES)
    return visible


def requests_visible_to(user) -> QuerySet[PurchaseRequest]:
    return (
        PurchaseRequest.objects.select_related("requester", "category", "vendor", "department")
        .prefetch_related(
            Prefetch(
                "steps",
                queryset=ApprovalStep.objects.filter(state=StepState.OPEN).select_related(
                    "group", "user"
                ),
                to_attr="open_steps",
            )
        )
        .filter(visibility(user))
    )


def requests_of(user) -> QuerySet[PurchaseRequest]:
    return requests_visible_to(user).filter(requester=user)


def request_for_page(user, pk) -> PurchaseRequest:
    """One request with everything its page shows; DoesNotExist when the user may not see it."""
    return (
        requests_visible_to(user)
        .prefetch_related(
            "line_items",
            "attachments",
            Prefetch("comments", queryset=Comment.objects.select_related("author")),
        )
        .get(pk=pk)
    )


def timeline(purchase_request: PurchaseRequest) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.for_object(purchase_request)
