"""Reads about people that pages share."""

from django.contrib.auth import get_user_model


def admin_contacts(limit: int = 3) -> list:
    """The administrators a person can ask for access or a change in the admin: active
    superusers (they may give anyone any right), by name; at most `limit`."""
    return list(
        get_user_model()
        .objects.filter(is_active=True, is_superuser=True)
        .order_by("last_name", "first_name", "username")[:limit]
    )
