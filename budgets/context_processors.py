from django.utils.functional import SimpleLazyObject

from . import policies, selectors


def renewals_nav(request):
    """`may_see_renewals` for the navigation: procurement, leaders and admins (a contract's
    owner reaches their renewals from what tells them of one, without a query on every page)."""
    user = getattr(request, "user", None)
    return {
        "may_see_renewals": SimpleLazyObject(
            lambda: bool(user and user.is_authenticated and selectors.sees_every_renewal(user))
        )
    }


def budgets_nav(request):
    """`may_see_budgets` for the navigation (finance, CIO, CPO, admins, budget owners)."""
    user = getattr(request, "user", None)
    return {
        "may_see_budgets": SimpleLazyObject(
            lambda: bool(user and user.is_authenticated and policies.can_view_budgets(user))
        )
    }
