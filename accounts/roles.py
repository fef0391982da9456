"""The role groups of SPEC §1. Requesters need no group: every signed-in employee is one."""

from core.memberships import groups_of
from core.policies import ADMINS, is_admin  # noqa: F401 - what "admin" means, asked with the roles

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


def names_phrase(names, count: int | None = None, *, shown: int = 3) -> str:
    """People named in one phrase, the way every list of who may act names them: "Ivan Ito",
    "Ivan Ito or Ines Ives", "Ivan Ito, Ines Ives or Ian Irwin"; past `shown` names the rest
    are counted, "Ivan Ito, Ines Ives or 3 others" (one more is named rather than counted when
    `names` has it). `count` is how many they are in all, when `names` holds only the first
    few; "" for nobody."""
    names = list(names)
    count = len(names) if count is None else count
    listed = names[: shown + 1] if count == shown + 1 else names[:shown]
    if not listed or not count:
        return ""
    rest = count - len(listed)
    if rest > 0:
        return f"{', '.join(listed)} or {rest} other{'s' if rest > 1 else ''}"
    if len(listed) == 1:
        return listed[0]
    return f"{', '.join(listed[:-1])} or {listed[-1]}"


def people_phrase(first, count: int, group_name: str) -> str:
    """Who can act on a group's step, as people: "Ivan Novak or 2 others in IT review", from the
    first of them and how many they are (names_phrase words the people)."""
    label = group_label(group_name)
    if not count or first is None:
        return f"{label} (nobody in it yet)"
    if count == 1:
        return f"{first} ({label})"
    return f"{names_phrase([str(first)], count)} in {label}"


def group_names(user) -> frozenset[str]:
    return frozenset(groups_of(user).values())


def group_ids(user) -> set[int]:
    return set(groups_of(user))


def has_role(user, *roles: str) -> bool:
    return bool(group_names(user).intersection(roles))


def is_reviewer(user) -> bool:
    """Reviewers, leaders, finance and admins: the people who work on requests and vendors other
    than their own (SPEC §1, §9). The one definition pages, API and policies ask."""
    return bool(user and user.is_authenticated and (is_admin(user) or has_role(user, *ALL_GROUPS)))


def sees_everything(user) -> bool:
    return is_admin(user) or has_role(user, *LEADERS)
