"""Out-of-office delegations (SPEC §1): the writes pages, API and admin share."""

from django.db import transaction
from django.utils import timezone

from .models import Delegation


def end_delegation(delegation: Delegation) -> None:
    """Ends a delegation now: one that has not started yet is removed, a running one is cut
    short so the decisions taken under it keep their record of the window."""
    now = timezone.now()
    with transaction.atomic():
        if delegation.starts_at >= now:
            delegation.delete()
        else:
            Delegation.objects.filter(pk=delegation.pk, ends_at__gt=now).update(ends_at=now)
