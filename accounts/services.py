"""Writes on people's own settings: out-of-office delegations (SPEC §1)."""

from django.db import transaction
from django.utils import timezone

from core.errors import TransitionNotAllowed

from .models import Delegation


def create_delegation(*, delegator, delegate, starts_at, ends_at) -> Delegation:
    """From `starts_at` until `ends_at` the delegate acts with the delegator's reviewing
    rights, under the rules of `Delegation.clean`."""
    delegation = Delegation(
        delegator=delegator, delegate=delegate, starts_at=starts_at, ends_at=ends_at
    )
    delegation.full_clean()
    with transaction.atomic():
        delegation.save()
    return delegation


def end_delegation(delegation: Delegation, *, now=None) -> Delegation | None:
    """Ends a delegation now. One that has not started yet never applied and is removed
    (returns None); one already over cannot be ended again (TransitionNotAllowed, 409)."""
    now = now or timezone.now()
    with transaction.atomic():
        delegation = Delegation.objects.select_for_update().get(pk=delegation.pk)
        if delegation.ends_at <= now:
            raise TransitionNotAllowed("This delegation has already ended.")
        if delegation.starts_at >= now:
            delegation.delete()
            return None
        delegation.ends_at = now
        delegation.save(update_fields=["ends_at"])
    return delegation
