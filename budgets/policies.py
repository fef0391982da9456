"""Who may see budgets and renewals (SPEC §8a, §9)."""

from dataclasses import dataclass

from django.contrib.auth.models import Group

from accounts import roles
from accounts.reviewers import reviewer_identity
from core.policies import ALLOWED, Verdict, deny

from . import selectors
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
        owned = _owned_budgets(identity).order_by().values_list("department_id", flat=True)
        departments = {*owned, user.department_id} - {None}
        sight = BudgetSight(department_ids=frozenset(departments))
    user._tandem_budget_sight = sight
    return sight


def _owned_budgets(identity):
    """The budgets the user owns, or a colleague whose open delegation they hold owns."""
    return Budget.objects.filter(owner_id__in=identity.user_ids)


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


# Whose work the Budgets page is, beside the owners of a budget.
BUDGETS_PAGE_ROLES = (roles.FINANCE, *roles.LEADERS)
BUDGETS_PAGE_REFUSED = (
    "The Budgets page is for finance, the CIO, the CPO, admins and the owners of a budget. "
    "The budget of your department is shown on the request form, as you fill it in."
)


def can_view_budgets(user) -> Verdict:
    """The Budgets page (a fiscal year's budgets, their burn-down and the requests that take
    them over) is the work of finance, the CIO, the CPO and admins, and of whoever owns a
    budget (or holds the open delegation of one of these people): the owner approves its
    overruns. Reviewers and requesters meet budget figures where they work, on the request form
    and the request's page. Which budgets the page shows is `budget_sight`'s answer: every
    department's for the roles, the owned ones (and one's own department's) for an owner."""
    if not (user and user.is_authenticated and user.is_active):
        return deny(BUDGETS_PAGE_REFUSED)
    if roles.is_admin(user) or roles.has_role(user, *BUDGETS_PAGE_ROLES):
        return ALLOWED
    cached = getattr(user, "_tandem_budgets_page", None)  # the menu and the page both ask
    if cached is not None:
        return cached
    identity = reviewer_identity(user)
    delegated = set().union(*identity.delegators.values())
    if (
        delegated and Group.objects.filter(pk__in=delegated, name__in=BUDGETS_PAGE_ROLES).exists()
    ) or _owned_budgets(identity).exists():
        verdict = ALLOWED
    else:
        verdict = deny(BUDGETS_PAGE_REFUSED)
    user._tandem_budgets_page = verdict
    return verdict


def can_import_budgets(user) -> Verdict:
    """Admins and finance load a year's budgets."""
    if roles.is_admin(user) or roles.has_role(user, roles.FINANCE):
        return ALLOWED
    return deny("Only finance and admins import budgets.")


def can_view_renewals(user) -> Verdict:
    """Renewals are procurement's and the leaders' work; a contract's owner sees the renewals
    of their own contracts (`selectors.renewals_visible_to`: the same rule)."""
    if not (user and user.is_authenticated and user.is_active):
        return deny(RENEWALS_REFUSED)
    if selectors.sees_every_renewal(user) or selectors.renewals_visible_to(user).exists():
        return ALLOWED
    return deny(RENEWALS_REFUSED)


RENEWALS_REFUSED = "Renewals are for procurement, the CIO, the CPO, admins and contract owners."
