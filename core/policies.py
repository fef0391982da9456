from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Q


@dataclass(frozen=True)
class Verdict:
    """The answer of a policy: allowed, or not and why (shown to the user as it is)."""

    allowed: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.allowed

    def enforce(self) -> None:
        """Raises PermissionDenied (HTTP 403) with the reason when not allowed."""
        if not self.allowed:
            raise PermissionDenied(self.reason)


ALLOWED = Verdict(True)


def deny(reason: str) -> Verdict:
    return Verdict(False, reason)


def is_admin(user) -> bool:
    """An admin: an active person the admin site lets in (Django's `is_staff`, which is what
    `AdminSite.has_permission` asks). The one meaning of "admin" every policy, selector and
    page uses (`accounts.roles` offers it with the roles); `ADMINS` says the same in a query."""
    return bool(user and user.is_authenticated and user.is_active and user.is_staff)


ADMINS = Q(is_active=True, is_staff=True)
