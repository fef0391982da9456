"""Who may see and work on vendors (SPEC §5, §9)."""

from accounts.roles import CIO, IT_REVIEWERS, PROCUREMENT_SIDE, has_role, is_admin, is_reviewer
from core.policies import ALLOWED, Verdict, deny


def can_view_vendors(user) -> Verdict:
    """Vendor vetting data (risk, certificates, contracts) is for reviewers, leaders, admins."""
    if is_reviewer(user):
        return ALLOWED
    return deny("Vendor records are for IT, procurement, finance and admins.")


def can_manage_vendor(user) -> Verdict:
    """Reviewers of either side keep vendor records, certificates and contracts up to date."""
    if is_admin(user) or has_role(user, IT_REVIEWERS, CIO, *PROCUREMENT_SIDE):
        return ALLOWED
    return deny("Only IT and procurement reviewers change vendor records.")


def can_answer_questionnaire(user) -> Verdict:
    """The security questionnaire is IT's part of the vendor review."""
    if is_admin(user) or has_role(user, IT_REVIEWERS, CIO):
        return ALLOWED
    return deny("Only IT reviewers answer the security questionnaire.")


def can_rate(user, purchase_request) -> Verdict:
    """After a request is closed, its requester and IT rate the vendor."""
    if purchase_request.state != "closed":
        return deny("The vendor is rated once the request is closed.")
    if purchase_request.requester_id == user.pk or has_role(user, IT_REVIEWERS, CIO):
        return ALLOWED
    return deny("The requester and IT rate the vendor.")
