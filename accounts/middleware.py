"""Two-factor codes for staff, CIO and CPO who sign in with a password (docs/administer/sso.md):
with TANDEM_REQUIRE_MFA on, such a person who has not set up an authenticator app is sent to
set it up before anything else; the API refuses their session until then. People who signed in
through the company's identity provider are left to the provider's own second factor."""

from csp.middleware import CSPMiddleware
from django.conf import settings
from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from . import policies, selectors, sso, two_factor

# What such a person may still open: setting the code up, signing out, static files.
ALLOWED_PREFIXES = ("/auth/2fa/", "/auth/reauthenticate/", "/auth/logout/", "/accounts/logout/")


class TwoFactorRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self.must_set_up(request):
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
        """The rule is two_factor.must_set_up; a session signed in through the provider or with
        a code is past it."""
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return False
        if not (settings.TANDEM_REQUIRE_MFA and two_factor.needs_second_factor(user)):
            return False
        if sso.signed_in_with_provider(request) or sso.signed_in_with_second_factor(request):
            return False
        return two_factor.must_set_up(user)


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


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's header, whose form-action also names the identity provider's origins
    (`sso.form_targets`): the "Sign in with …" form is answered with a redirect to the provider,
    and Chromium holds a form's redirects to form-action, so with `'self'` alone nobody could
    sign in through the provider. The rest of the policy is settings.CONTENT_SECURITY_POLICY."""

    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only)
        targets = () if report_only else sso.form_targets()
        if targets:
            update = dict(parts.update or {})
            update["form-action"] = [*(update.get("form-action") or ()), *targets]
            parts.update = update
        return parts
