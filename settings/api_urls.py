"""Every app's API routes under /api/."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from accounts.api.token import obtain_token
from accounts.api.views import ApiTokenViewSet, DelegationViewSet
from approvals.api.views import (
    ConsultationViewSet,
    RequestEvidenceView,
    RequestStepsView,
    RuleDraftViewSet,
    RulePreviewView,
    RuleVersionViewSet,
    RuleViewSet,
    StepViewSet,
)
from budgets.api.views import BudgetViewSet, RenewalViewSet
from insights.api.views import AuditExportView, MetricsView, RequestsExportView
from intake.api.views import CategoryViewSet, PurchaseRequestViewSet
from notifications.api.views import PreferencesView
from reach.api.views import SlackInteractivityView
from vendors.api.views import VendorViewSet

router = DefaultRouter()
# One address per resource: no `.json` twin of each route (`?format=` still picks a renderer).
# The twins passed a `format` argument that the viewsets' own actions do not take: a 500.
router.include_format_suffixes = False
router.register("requests", PurchaseRequestViewSet, basename="request")
router.register("steps", StepViewSet, basename="step")
router.register("consultations", ConsultationViewSet, basename="consultation")
router.register("rules", RuleViewSet, basename="rule")
router.register("rule-versions", RuleVersionViewSet, basename="rule-version")
router.register("rule-drafts", RuleDraftViewSet, basename="rule-draft")
router.register("vendors", VendorViewSet, basename="vendor")
router.register("categories", CategoryViewSet, basename="category")
router.register("delegations", DelegationViewSet, basename="delegation")
router.register("tokens", ApiTokenViewSet, basename="token")
router.register("budgets", BudgetViewSet, basename="budget")
router.register("renewals", RenewalViewSet, basename="renewal")

urlpatterns = [
    path("auth/token/", obtain_token, name="api-token"),
    path("slack/interactivity/", SlackInteractivityView.as_view(), name="slack-interactivity"),
    path("rules/preview/", RulePreviewView.as_view(), name="rule-preview"),
    path("requests/<int:request_pk>/steps/", RequestStepsView.as_view(), name="request-steps"),
    path(
        "requests/<int:request_pk>/evidence/",
        RequestEvidenceView.as_view(),
        name="request-evidence",
    ),
    path(
        "notification-preferences/",
        PreferencesView.as_view(),
        name="notification-preferences",
    ),
    path("metrics/", MetricsView.as_view(), name="metrics"),
    path("export/requests.csv", RequestsExportView.as_view(), name="export-requests"),
    path("export/audit.csv", AuditExportView.as_view(), name="export-audit"),
    *router.urls,
]
