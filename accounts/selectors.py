"""Reads shared by the accounts pages and API."""

from django.db.models import QuerySet

from .models import User


def people_to_delegate_to(delegator) -> QuerySet[User]:
    """Whom the out-of-office form lists: everyone else who can still sign in. Choosing anyone
    else is refused by `Delegation.clean`, on the page and the API in the same words."""
    return User.objects.filter(is_active=True).exclude(pk=delegator.pk)
