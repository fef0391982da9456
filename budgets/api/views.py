"""/api/budgets/ and /api/renewals/: read-only, the same selectors and policies as the pages."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import permissions, viewsets

from .. import policies, selectors
from ..filters import BudgetFilter
from ..models import Budget, Renewal
from .serializers import BudgetSerializer, RenewalSerializer

ERRORS = {
    400: OpenApiResponse(description="A filter is not valid."),
    401: OpenApiResponse(description="Not signed in."),
    403: OpenApiResponse(description="Signed in, but not allowed."),
}
BUDGET_ERRORS = {code: answer for code, answer in ERRORS.items() if code != 403}


class PolicyPermission(permissions.BasePermission):
    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False  # 401
        verdict = view.policy(request.user)
        self.message = verdict.reason
        return verdict.allowed


@extend_schema_view(
    list=extend_schema(
        summary="Budgets with their figures",
        description=(
            "Each budget of a department (and, when set, a category) for a fiscal year, in the "
            "base currency: the amount, what is committed (approved, ordered and received "
            "requests), what is in flight (in review) and what stays available. A request "
            "billed over several years counts in each by its billing schedule. Reviewers, "
            "leaders, finance and admins see every department's budgets; everyone else those "
            "of their own department and of the departments whose budget they own (an empty "
            "list when there are none)."
        ),
        responses={200: BudgetSerializer(many=True), **BUDGET_ERRORS},
    ),
    retrieve=extend_schema(
        summary="One budget with its figures",
        responses={
            200: BudgetSerializer,
            **BUDGET_ERRORS,
            404: OpenApiResponse(
                description="No such budget, or one of a department whose budget you do not see."
            ),
        },
    ),
)
class BudgetViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = BudgetSerializer
    filterset_class = BudgetFilter
    # Whose figures: budgets.policies.budget_sight, through the selector (404, as for any
    # object one may not see).
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Budget.objects.none()
        return selectors.budgets_visible_to(self.request.user)


@extend_schema_view(
    list=extend_schema(
        summary="Contract renewals",
        description=(
            "Each contract term's renewal request, by notice deadline (end date minus notice "
            "days): the request's state in words, and whether the deadline passed without a "
            "decision. For procurement, the CIO, the CPO and admins."
        ),
        responses={200: RenewalSerializer(many=True), **ERRORS},
    ),
    retrieve=extend_schema(
        summary="One renewal",
        responses={
            200: RenewalSerializer,
            **ERRORS,
            404: OpenApiResponse(description="No such renewal."),
        },
    ),
)
class RenewalViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = RenewalSerializer
    permission_classes = [PolicyPermission]
    policy = staticmethod(policies.can_view_renewals)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Renewal.objects.none()
        return selectors.renewals_visible_to(self.request.user)
