"""Reads about people that pages and the API share."""

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from .models import User


def admin_contacts(limit: int = 3) -> list:
    """The administrators a person can ask for access or a change in the admin: active
    superusers (they may give anyone any right), by name; at most `limit`."""
    return list(
        get_user_model()
        .objects.filter(is_active=True, is_superuser=True)
        .order_by("last_name", "first_name", "username")[:limit]
    )


def people_to_delegate_to(delegator) -> QuerySet[User]:
    """Whom the out-of-office form lists: everyone else who can still sign in. Choosing anyone
    else is refused by `Delegation.clean`, on the page and the API in the same words."""
    return User.objects.filter(is_active=True).exclude(pk=delegator.pk)
