"""Two-factor sign-in (docs/administer/sso.md): one rule for every way in with a password.

- Whoever has set up an authenticator app gives its code (or a recovery code) after the
  password: the sign-in page asks for it (allauth's login stage), the API token endpoint takes it
  as `code` (`check_second_factor`).
- With TANDEM_REQUIRE_MFA on, staff, CIO and CPO without an authenticator app set one up before
  anything else: the website sends them to do so (accounts.middleware), the token endpoint
  refuses them a token until then.

People who sign in through the company's identity provider are left to its second factor."""

from allauth.core import context
from allauth.mfa.base.forms import AuthenticateForm
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError

from . import roles

CODE_NEEDED = (
    "Your account signs in with two factors: send the code from your authenticator app "
    "(or a recovery code) as `code`."
)
SET_UP_FIRST = (
    "Your role needs two-factor sign-in: sign in on the website and set up an authenticator "
    "app first, then ask for a token with its code."
)


def needs_second_factor(user) -> bool:
    """Staff, CIO and CPO: the roles that must use two factors with a password."""
    return bool(roles.is_admin(user) or roles.has_role(user, roles.CIO, roles.CPO))


def has_authenticator(user) -> bool:
    """Whether signing in asks for a code: the condition of allauth's own login stage."""
    return is_mfa_enabled(user, [Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN])


def must_set_up(user) -> bool:
    """Whether `user`, signed in with a password, must set up an authenticator app first."""
    return bool(
        settings.TANDEM_REQUIRE_MFA and needs_second_factor(user) and not has_authenticator(user)
    )


def check_second_factor(request, user, code: str) -> Authenticator | None:
    """The second step of a password sign-in that is not the sign-in page (the API token
    endpoint): the code of `user`'s authenticator app or one of their recovery codes, checked by
    allauth as the page checks it (each code once, failed attempts rate-limited). Raises
    ValidationError (field `code`) when it is missing or wrong, PermissionDenied when `user` must
    set up an authenticator app first; returns the authenticator used, or None if none is
    needed."""
    if has_authenticator(user):
        if not code:
            raise ValidationError({"code": [CODE_NEEDED]})
        with context.request_context(request):
            form = AuthenticateForm(data={"code": code}, user=user)
            if not form.is_valid():
                raise ValidationError({"code": form.errors["code"]})
        form.authenticator.record_usage()
        return form.authenticator
    if must_set_up(user):
        raise PermissionDenied(SET_UP_FIRST)
    return None
