"""Who sees which figures and exports (SPEC §6, §9)."""

from dataclasses import dataclass

from accounts import roles
from approvals.models import Side
from core.policies import ALLOWED, Verdict, deny

# The side each reviewer group works on; the CIO and the CPO lead both and see every side.
SIDE_OF_GROUP = {
    roles.IT_REVIEWERS: Side.IT,
    roles.PROCUREMENT: Side.PROCUREMENT,
    roles.FINANCE: Side.FINANCE,
}


@dataclass(frozen=True)
class Scope:
    """Which steps a user's figures count: every side (`sides` None) or the user's own."""

    sides: frozenset[str] | None = None

    @property
    def everything(self) -> bool:
        return self.sides is None

    @property
    def side_values(self) -> list[str]:
        return [value for value in Side.values if self.sides is None or value in self.sides]

    @property
    def side_labels(self) -> list[str]:
        if self.sides is None:
            return [label for _, label in Side.choices]
        return [label for value, label in Side.choices if value in self.sides]


EVERYTHING = Scope()


def can_view_insights(user) -> Verdict:
    """The figures are for the CIO, the CPO, admins and reviewers; a requester has none."""
    if roles.sees_everything(user) or roles.has_role(user, *SIDE_OF_GROUP):
        return ALLOWED
    return deny("Insights are for the CIO, the CPO, admins and reviewers.")


def scope_for(user) -> Scope:
    """The CIO, the CPO and admins see every side; a reviewer sees the figures and steps of the
    side of their groups (IT, procurement, finance)."""
    can_view_insights(user).enforce()
    if roles.sees_everything(user):
        return EVERYTHING
    return Scope(
        sides=frozenset(
            side for group, side in SIDE_OF_GROUP.items() if roles.has_role(user, group)
        )
    )


def can_export_audit(user) -> Verdict:
    """The audit trail is exported by admins, the CIO and the CPO only."""
    if roles.sees_everything(user):
        return ALLOWED
    return deny("Only admins, the CIO and the CPO export the audit trail.")
