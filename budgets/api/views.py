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
            "billed over several years counts in each by its billing schedule. For reviewers, "
            "leaders, finance and admins."
        ),
        responses={200: BudgetSerializer(many=True), **ERRORS},
    ),
    retrieve=extend_schema(
        summary="One budget with its figures",
        responses={
            200: BudgetSerializer,
            **ERRORS,
            404: OpenApiResponse(description="No such budget."),
        },
    ),
)
class BudgetViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = BudgetSerializer
    filterset_class = BudgetFilter
    permission_classes = [PolicyPermission]
    policy = staticmethod(policies.can_view_budgets)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Budget.objects.none()
        return selectors.budget_list()


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
