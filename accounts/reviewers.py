"""Whose reviewing rights a user holds right now: their own groups, and those of every
colleague whose out-of-office delegation to them is open (SPEC §1). The approval policy and the
visibility of requests both start from here."""

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from . import roles
from .models import Delegation


@dataclass
class ReviewerIdentity:
    user: object
    group_ids: set[int] = field(default_factory=set)
    # delegator -> their group ids, for each delegation whose window is open
    delegators: dict = field(default_factory=dict)

    @property
    def principals(self) -> list[tuple[object, set[int]]]:
        """Each person whose rights the user can act with, the user first, with their groups."""
        return [(self.user, self.group_ids), *self.delegators.items()]

    @property
    def all_group_ids(self) -> set[int]:
        return self.group_ids.union(*self.delegators.values())

    @property
    def user_ids(self) -> set[int]:
        return {self.user.pk, *(d.pk for d in self.delegators)}

    @property
    def reviews_anything(self) -> bool:
        return bool(self.all_group_ids or self.delegators)


def reviewer_identity(user, now: datetime | None = None) -> ReviewerIdentity:
    """Read once per user object (a page or API call asks many times)."""
    cached = getattr(user, "_reviewer_identity", None)
    if cached is not None:
        return cached
    identity = ReviewerIdentity(user=user)
    if user.pk:
        now = now or timezone.now()
        identity.group_ids = roles.group_ids(user)
        delegations = (
            # A delegation gives the delegator's rights only while the delegator has them: once
            # they leave (deactivated), it gives nothing, even before it is ended.
            Delegation.objects.filter(
                delegate=user, starts_at__lte=now, ends_at__gt=now, delegator__is_active=True
            )
            .select_related("delegator")
            .prefetch_related("delegator__groups")
        )
        for delegation in delegations:
            identity.delegators[delegation.delegator] = {
                group.pk for group in delegation.delegator.groups.all()
            }
    user._reviewer_identity = identity
    return identity
