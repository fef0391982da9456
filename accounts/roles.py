"""The role groups of SPEC §1. Requesters need no group: every signed-in employee is one."""

IT_REVIEWERS = "it_reviewers"
CIO = "cio"
PROCUREMENT = "procurement"
CPO = "cpo"
FINANCE = "finance"

ALL_GROUPS = (IT_REVIEWERS, CIO, PROCUREMENT, CPO, FINANCE)
# Leaders see every request; admins (staff) do too.
LEADERS = (CIO, CPO)
PROCUREMENT_SIDE = (PROCUREMENT, CPO)


def _groups(user) -> dict[int, str]:
    """The user's groups (id -> name), read once per user object: a request asks often."""
    cached = getattr(user, "_tandem_groups", None)
    if cached is None:
        cached = dict(user.groups.values_list("pk", "name")) if user.pk else {}
        user._tandem_groups = cached
    return cached


def group_names(user) -> frozenset[str]:
    return frozenset(_groups(user).values())


def group_ids(user) -> set[int]:
    return set(_groups(user))


def has_role(user, *roles: str) -> bool:
    return bool(group_names(user).intersection(roles))


def is_reviewer(user) -> bool:
    """Reviewers, leaders, finance and admins: the people who work on requests and vendors other
    than their own (SPEC §1, §9). The one definition pages, API and policies ask."""
    return bool(user and user.is_authenticated and (user.is_staff or has_role(user, *ALL_GROUPS)))


def sees_everything(user) -> bool:
    return user.is_staff or user.is_superuser or has_role(user, *LEADERS)
