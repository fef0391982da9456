"""The groups a person belongs to, read once per user object: a request asks often (the menu,
the policies, the bell), and every app may ask, so the one cached read lives here."""


def groups_of(user) -> dict[int, str]:
    """The user's groups, {id: name}; {} for a user not saved (anonymous)."""
    cached = getattr(user, "_tandem_groups", None)
    if cached is None:
        cached = dict(user.groups.values_list("pk", "name")) if user.pk else {}
        user._tandem_groups = cached
    return cached
