"""Two-factor codes for staff, CIO and CPO who sign in with a password (README "Signing in"):
with TANDEM_REQUIRE_MFA on, such a person who has not set up an authenticator app is sent to
set it up before anything else; the API refuses their session until then. People who signed in
through the company's identity provider are left to the provider's own second factor."""

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from . import policies, roles, selectors, sso

# What such a person may still open: setting the code up, signing out, static files.
ALLOWED_PREFIXES = ("/auth/2fa/", "/auth/reauthenticate/", "/auth/logout/", "/accounts/logout/")


def needs_second_factor(user) -> bool:
    return bool(user.is_staff or user.is_superuser or roles.has_role(user, roles.CIO, roles.CPO))


class TwoFactorRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.TANDEM_REQUIRE_MFA and self.must_set_up(request):
            path = request.path_info
            if path.startswith("/api/"):
                return JsonResponse(
                    {"detail": "Set up two-factor sign-in codes on the website first."},
                    status=403,
                )
            if not path.startswith(ALLOWED_PREFIXES) and not path.startswith(
                "/" + settings.STATIC_URL.lstrip("/")
            ):
                messages.info(
                    request,
                    "Your role needs a second step at sign-in: set up an authenticator app "
                    "before you go on.",
                )
                return redirect(reverse("mfa_activate_totp"))
        return self.get_response(request)

    @staticmethod
    def must_set_up(request) -> bool:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not needs_second_factor(user):
            return False
        if sso.signed_in_with_provider(request) or sso.signed_in_with_second_factor(request):
            return False
        return not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


class AdminForAdminsOnlyMiddleware:
    """Any admin address opened by a signed-in person whom the admin does not let in answers a
    403 page that says who can help. Django's admin would send them to its sign-in page, which
    sends a signed-in person back to where they came from: a loop until the browser gives up.
    Anonymous visitors go on to the sign-in page (with `next`), as everywhere."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and request.path_info.startswith(reverse("admin:index"))
            and not policies.can_use_admin(request)
        ):
            context = {"contacts": selectors.admin_contacts()}
            return render(request, "accounts/admin_forbidden.html", context, status=403)
        return self.get_response(request)
