"""Reads shared by pages and API, with the joins they need so lists stay O(1) in queries."""

from django.db.models import Prefetch, QuerySet

from accounts.roles import sees_everything
from audit.models import AuditEvent

from .models import Comment, PurchaseRequest


def requests_visible_to(user) -> QuerySet[PurchaseRequest]:
    """Requesters see their own requests; CIO, CPO and admins see all (SPEC §9)."""
    requests = PurchaseRequest.objects.select_related(
        "requester", "category", "vendor", "department"
    )
    if sees_everything(user):
        return requests
    return requests.filter(requester=user)


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
