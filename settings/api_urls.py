"""Every app's API routes under /api/."""

from django.urls import path
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import DefaultRouter

from approvals.api.views import (
    ConsultationViewSet,
    RequestStepsView,
    RulePreviewView,
    RuleViewSet,
    StepViewSet,
)
from insights.api.views import AuditExportView, MetricsView, RequestsExportView
from intake.api.views import PurchaseRequestViewSet
from vendors.api.views import VendorViewSet

router = DefaultRouter()
router.register("requests", PurchaseRequestViewSet, basename="request")
router.register("steps", StepViewSet, basename="step")
router.register("consultations", ConsultationViewSet, basename="consultation")
router.register("rules", RuleViewSet, basename="rule")
router.register("vendors", VendorViewSet, basename="vendor")

urlpatterns = [
    path("auth/token/", obtain_auth_token, name="api-token"),
    path("rules/preview/", RulePreviewView.as_view(), name="rule-preview"),
    path("requests/<int:request_pk>/steps/", RequestStepsView.as_view(), name="request-steps"),
    path("metrics/", MetricsView.as_view(), name="metrics"),
    path("export/requests.csv", RequestsExportView.as_view(), name="export-requests"),
    path("export/audit.csv", AuditExportView.as_view(), name="export-audit"),
    *router.urls,
]
