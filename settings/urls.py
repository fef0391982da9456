from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import views as accounts_views
from accounts.login import SignInView
from core import views as core_views

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="intake:my-requests"), name="home"),
    path("favicon.ico", core_views.favicon),
    path("accounts/login/", login_not_required(SignInView.as_view()), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # django-allauth: the identity provider's sign-in and callback (auth/oidc/<id>/login/…),
    # two-factor codes (auth/2fa/…) and sessions (auth/sessions/). Its own sign-in, sign-up
    # and password-reset pages are not used: they lead to Tandem's sign-in page.
    *[
        path(f"auth/{route}", login_not_required(RedirectView.as_view(pattern_name="login")))
        for route in ("login/", "signup/", "password/reset/")
    ],
    path(
        "auth/oidc/<str:provider_id>/backchannel-logout/",
        accounts_views.backchannel_logout,
        name="oidc-backchannel-logout",
    ),
    # Setting or changing a password asks first whether the person may have one.
    path("auth/password/change/", accounts_views.password_change),
    path("auth/password/set/", accounts_views.password_set),
    path("auth/", include("allauth.urls")),
    path("accounts/", include("accounts.urls")),
    path("requests/", include("intake.urls")),
    path("approvals/", include("approvals.urls")),
    path("vendors/", include("vendors.urls")),
    path("notifications/", include("notifications.urls")),
    path("insights/", include("insights.urls")),
    path("budgets/", include("budgets.urls")),
    path("operations/", include("operations.urls")),
    # The admin signs in on Tandem's page too, so its two-factor code is never skipped.
    path(
        "admin/login/",
        login_not_required(RedirectView.as_view(pattern_name="login", query_string=True)),
    ),
    path("", include("reach.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("settings.api_urls")),
    # SCIM 2.0 for the identity provider (accounts.scim): outside DRF and its schema.
    path("scim/v2/", include("accounts.scim")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's settings as a script file: no inline script for the CSP.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

# A body Django refuses for its size is 413, not 400; under /api/ errors are JSON (core.http).
handler400 = "core.http.bad_request"
handler403 = "core.http.forbidden"
handler404 = "core.http.not_found"
# The database down is 503 with Retry-After ("briefly unavailable"), not a bare 500.
handler500 = "core.http.server_error"
