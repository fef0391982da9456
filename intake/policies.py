"""Who may do what with a purchase request (SPEC §2, §9). Pages and API ask the same functions.
The state a request must be in is the state machine's business, not a policy's."""

from django.contrib.auth.models import Group

from accounts.reviewers import reviewer_identity
from accounts.roles import PROCUREMENT_SIDE, has_role, is_admin, sees_everything
from core.policies import ALLOWED, Verdict, deny

from .models import PurchaseRequest
from .selectors import visibility


def can_view(user, purchase_request: PurchaseRequest) -> Verdict:
    """As `selectors.visibility` says: one definition for pages, API and policies."""
    if purchase_request.requester_id == user.pk or sees_everything(user):
        return ALLOWED
    if PurchaseRequest.objects.filter(visibility(user), pk=purchase_request.pk).exists():
        return ALLOWED
    return deny("You cannot see this request.")


def can_act_as_requester(user, purchase_request: PurchaseRequest) -> Verdict:
    """Only the requester (or an admin) edits, submits, resubmits or withdraws a request."""
    if purchase_request.requester_id == user.pk or is_admin(user):
        return ALLOWED
    return deny("Only the requester or an admin can change, submit or withdraw this request.")


def can_mark_ordered(user, purchase_request: PurchaseRequest) -> Verdict:
    """Procurement places the order and records the PO number (members of procurement or the
    CPO, and whoever holds one of their delegations)."""
    if has_role(user, *PROCUREMENT_SIDE) or is_admin(user):
        return ALLOWED
    identity = reviewer_identity(user)
    if (
        identity.delegators
        and Group.objects.filter(pk__in=identity.all_group_ids, name__in=PROCUREMENT_SIDE).exists()
    ):
        return ALLOWED
    return deny("Only procurement can record the order.")


def can_close(user, purchase_request: PurchaseRequest) -> Verdict:
    """The requester (or procurement) confirms receipt."""
    if purchase_request.requester_id == user.pk:
        return ALLOWED
    return can_mark_ordered(user, purchase_request) or deny(
        "Only the requester or procurement can confirm receipt."
    )


def can_comment(user, purchase_request: PurchaseRequest) -> Verdict:
    return can_view(user, purchase_request)
