"""Writes on people's own settings: out-of-office delegations (SPEC §1)."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.errors import TransitionNotAllowed

from .models import Delegation

EARLIEST_YEAR, LATEST_YEAR = 2000, 2100


def create_delegation(*, delegator, delegate, starts_at, ends_at) -> Delegation:
    """From `starts_at` until `ends_at` the delegate acts with the delegator's reviewing
    rights; never oneself, and the window ends after it starts."""
    errors = {}
    if delegate.pk == delegator.pk:
        errors["delegate"] = ["Delegate to somebody else."]
    elif not delegate.is_active:
        errors["delegate"] = ["This person can no longer sign in."]
    for name, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
            errors[name] = [f"Choose a date between {EARLIEST_YEAR} and {LATEST_YEAR}."]
    if ends_at <= starts_at:
        errors.setdefault("ends_at", []).append("The delegation must end after it starts.")
    if ends_at <= timezone.now():
        errors.setdefault("ends_at", []).append(
            "This window has already ended: choose an end in the future."
        )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        return Delegation.objects.create(
            delegator=delegator, delegate=delegate, starts_at=starts_at, ends_at=ends_at
        )


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
