"""Who may see budgets and renewals (SPEC §8a, §9)."""

from dataclasses import dataclass

from accounts import roles
from accounts.reviewers import reviewer_identity
from core.policies import ALLOWED, Verdict, deny

from .models import Budget

BUDGET_REFUSED = (
    "You see the budget of your own department. Finance, the CIO, the CPO and the budget's "
    "owner see this one; the reviewers check your request against it."
)


@dataclass(frozen=True)
class BudgetSight:
    """Whose budget figures a user sees outside any one request: every department's
    (`every`), or those of `department_ids`."""

    every: bool = False
    department_ids: frozenset[int] = frozenset()


def budget_sight(user) -> BudgetSight:
    """The departments whose budget figures (amount, committed, in flight, available, and what
    a request takes of them) `user` sees, on every page, panel, API and export:

    - every department: admins, the CIO, the CPO, finance and the members of the reviewer
      groups (IT review, procurement), and whoever holds one of their rights by an open
      delegation. These people see every submitted request (intake.selectors.visibility),
      and committed and in flight are sums of submitted requests;
    - otherwise, the department of their user profile (the one they charge by default), and
      each department whose budget (any year, whole or one category) they own, or a colleague
      whose open delegation they hold owns: the owner approves its overruns.

    Not signed in: nothing. A request adds its own department while one reads it: see
    `can_see_budget`. Read once per user object (a page asks for every budget it shows)."""
    cached = getattr(user, "_tandem_budget_sight", None)
    if cached is not None:
        return cached
    if not (user and user.is_authenticated and user.is_active):
        return BudgetSight()
    identity = reviewer_identity(user)
    if roles.sees_everything(user) or identity.all_group_ids:
        sight = BudgetSight(every=True)
    else:
        owned = Budget.objects.filter(owner_id__in=identity.user_ids).values_list(
            "department_id", flat=True
        )
        departments = {*owned, user.department_id} - {None}
        sight = BudgetSight(department_ids=frozenset(departments))
    user._tandem_budget_sight = sight
    return sight


def can_see_budget(user, department, *, purchase_request=None) -> Verdict:
    """The one rule for a department's budget figures (see `budget_sight`). With
    `purchase_request`, the request being read or edited: its requester also sees the figures
    of the department it charges once it has been submitted for review. A draft grants
    nothing: anyone may name any department in a draft, so a draft would open every budget.

    A request's own pages (the budget owner's step and why, the "over budget" event, the
    evidence packet) show figures of its department only; whoever may read a submitted
    request is its requester or someone who sees every budget (intake.selectors.visibility),
    so those pages agree with this rule without asking it again (tests/budgets/
    test_visibility.py holds them to it)."""
    department_id = getattr(department, "pk", department)
    if department_id is None:
        return deny(BUDGET_REFUSED)
    sight = budget_sight(user)
    if sight.every or department_id in sight.department_ids:
        return ALLOWED
    if (
        purchase_request is not None
        and purchase_request.requester_id == user.pk
        and purchase_request.department_id == department_id
        and purchase_request.submitted_at is not None
    ):
        return ALLOWED
    return deny(BUDGET_REFUSED)


def can_import_budgets(user) -> Verdict:
    """Admins and finance load a year's budgets."""
    if user.is_staff or roles.has_role(user, roles.FINANCE):
        return ALLOWED
    return deny("Only finance and admins import budgets.")


def can_view_renewals(user) -> Verdict:
    """Renewals are procurement's and the leaders' work."""
    if user.is_staff or roles.has_role(user, *roles.PROCUREMENT_SIDE, *roles.LEADERS):
        return ALLOWED
    return deny("Renewals are for procurement, the CIO, the CPO and admins.")
