"""The role groups of SPEC §1. Requesters need no group: every signed-in employee is one."""

from core.memberships import groups_of

IT_REVIEWERS = "it_reviewers"
CIO = "cio"
PROCUREMENT = "procurement"
CPO = "cpo"
FINANCE = "finance"

ALL_GROUPS = (IT_REVIEWERS, CIO, PROCUREMENT, CPO, FINANCE)
# Leaders see every request; admins (staff) do too.
LEADERS = (CIO, CPO)
PROCUREMENT_SIDE = (PROCUREMENT, CPO)

# What people read instead of the group codes: the one place that names the roles. Pages,
# e-mails, notifications, flash messages and API labels all go through `group_label`.
DISPLAY_NAMES = {
    IT_REVIEWERS: "IT review",
    CIO: "CIO",
    PROCUREMENT: "Procurement",
    CPO: "CPO",
    FINANCE: "Finance",
}


def group_label(name: str) -> str:
    """A group's display name: "it_reviewers" -> "IT review"; a group an admin added later
    reads as words ("security_team" -> "Security team")."""
    if name in DISPLAY_NAMES:
        return DISPLAY_NAMES[name]
    text = (name or "").replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def label_of(value) -> str:
    """`value` as a display name when it is a role group's code, else unchanged (a person's
    name stored in an audit event stays as it is)."""
    return DISPLAY_NAMES.get(value, value) if isinstance(value, str) else value


def people_phrase(first, count: int, group_name: str) -> str:
    """Who can act on a group's step, as people: "Ivan Novak or 2 others in IT review", from the
    first of them and how many they are."""
    label = group_label(group_name)
    if not count or first is None:
        return f"{label} (nobody in it yet)"
    if count == 1:
        return f"{first} ({label})"
    others = count - 1
    return f"{first} or {others} other{'s' if others > 1 else ''} in {label}"


def group_names(user) -> frozenset[str]:
    return frozenset(groups_of(user).values())


def group_ids(user) -> set[int]:
    return set(groups_of(user))


def has_role(user, *roles: str) -> bool:
    return bool(group_names(user).intersection(roles))


def is_reviewer(user) -> bool:
    """Reviewers, leaders, finance and admins: the people who work on requests and vendors other
    than their own (SPEC §1, §9). The one definition pages, API and policies ask."""
    return bool(user and user.is_authenticated and (user.is_staff or has_role(user, *ALL_GROUPS)))


def sees_everything(user) -> bool:
    return user.is_staff or user.is_superuser or has_role(user, *LEADERS)
