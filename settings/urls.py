from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.login import SignInForm
from core import views as core_views

admin.site.site_header = "Tandem administration"
admin.site.site_title = "Tandem admin"
admin.site.index_title = "Rules, people and settings"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="intake:my-requests"), name="home"),
    path("favicon.ico", core_views.favicon),
    path(
        "accounts/login/",
        login_not_required(
            auth_views.LoginView.as_view(
                authentication_form=SignInForm, redirect_authenticated_user=True
            )
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", include("accounts.urls")),
    path("requests/", include("intake.urls")),
    path("approvals/", include("approvals.urls")),
    path("vendors/", include("vendors.urls")),
    path("notifications/", include("notifications.urls")),
    path("insights/", include("insights.urls")),
    path("budgets/", include("budgets.urls")),
    path("operations/", include("operations.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("settings.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's settings as a script file: no inline script for the CSP.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

# A body Django refuses for its size is 413, not 400; under /api/ errors are JSON (core.http).
handler400 = "core.http.bad_request"
handler403 = "core.http.forbidden"
handler404 = "core.http.not_found"
