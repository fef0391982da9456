"""Every app's API routes under /api/."""

from django.urls import path
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import DefaultRouter

from intake.api.views import PurchaseRequestViewSet

router = DefaultRouter()
router.register("requests", PurchaseRequestViewSet, basename="request")

urlpatterns = [
    path("auth/token/", obtain_auth_token, name="api-token"),
    *router.urls,
]
