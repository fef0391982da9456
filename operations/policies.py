"""Who may see the operations page (issue 20): staff (admins) only."""

from core.policies import ALLOWED, Verdict, deny


def can_operate(user) -> Verdict:
    if user.is_authenticated and user.is_active and user.is_staff:
        return ALLOWED
    return deny("Only admins see the operations page.")
