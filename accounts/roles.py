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


def group_names(user) -> frozenset[str]:
    """The user's group names, read once per user object (requests ask several times)."""
    cached = getattr(user, "_tandem_group_names", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True)) if user.pk else frozenset()
        user._tandem_group_names = cached
    return cached


def has_role(user, *roles: str) -> bool:
    return bool(group_names(user).intersection(roles))


def sees_everything(user) -> bool:
    return user.is_staff or user.is_superuser or has_role(user, *LEADERS)
