"""Every app's API routes under /api/."""

from rest_framework.routers import DefaultRouter

from intake.api.views import PurchaseRequestViewSet

router = DefaultRouter()
router.register("requests", PurchaseRequestViewSet, basename="request")

urlpatterns = router.urls
