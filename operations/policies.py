"""Who may see the operations page (issue 20): staff (admins) only."""

from accounts.roles import is_admin
from core.policies import ALLOWED, Verdict, deny


def can_operate(user) -> Verdict:
    if is_admin(user):
        return ALLOWED
    return deny("Only admins see the operations page.")
