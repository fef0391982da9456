"""Who may see budgets and renewals (SPEC §8a, §9)."""

from accounts import roles
from core.policies import ALLOWED, Verdict, deny


def can_view_budgets(user) -> Verdict:
    """Budget figures are for reviewers, leaders, finance and admins."""
    if roles.is_reviewer(user):
        return ALLOWED
    return deny("Budgets are for IT, procurement, finance, the CIO, the CPO and admins.")


def can_import_budgets(user) -> Verdict:
    """Admins and finance load a year's budgets."""
    if user.is_staff or roles.has_role(user, roles.FINANCE):
        return ALLOWED
    return deny("Only finance and admins import budgets.")


def can_view_renewals(user) -> Verdict:
    """Renewals are procurement's and the leaders' work."""
    if user.is_staff or roles.has_role(user, *roles.PROCUREMENT_SIDE, *roles.LEADERS):
        return ALLOWED
    return deny("Renewals are for procurement, the CIO, the CPO and admins.")
