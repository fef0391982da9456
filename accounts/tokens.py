"""API tokens (issue 18): making, checking and revoking them, and the DRF pieces that apply
them: `ApiTokenAuthentication` (401 for an unknown, expired or revoked token, 403 when the token
lacks the scope the call needs) and `LegacyTokenRefusal` (401 for DRF's old unscoped tokens,
naming their replacement)."""

import hashlib
import secrets
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import authentication, exceptions, permissions

from core.errors import TransitionNotAllowed

from .models import ApiToken, Scope

TOKEN_PREFIX = "tdm_"
LONGEST_LIFETIME = timedelta(days=366)
DEFAULT_LIFETIME = timedelta(days=90)


def digest_of(token: str) -> str:
    """Tokens carry 256 random bits: a plain SHA-256 cannot be reversed or guessed."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(user, *, name: str, scopes, expires_at=None) -> tuple[ApiToken, str]:
    """Makes a token for `user`; returns the row and the token, which is never shown again."""
    now = timezone.now()
    expires_at = expires_at or now + DEFAULT_LIFETIME
    scopes = list(dict.fromkeys(scopes))
    errors = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = ["Give the token a name that says what it is for."]
    if not scopes:
        errors["scopes"] = ["Choose at least one scope: read, write or decide."]
    elif unknown := [s for s in scopes if s not in Scope.values]:
        errors["scopes"] = [f"Unknown scope {unknown[0]!r}: use read, write or decide."]
    elif problem := scim_scope_problem(user, scopes):
        errors["scopes"] = [problem]
    if expires_at <= now:
        errors["expires_at"] = ["The expiry must be in the future."]
    elif expires_at > now + LONGEST_LIFETIME:
        errors["expires_at"] = ["A token lives at most one year; make a new one after."]
    if errors:
        raise ValidationError(errors)
    secret = secrets.token_urlsafe(32)
    prefix = secret[:8]
    token = f"{TOKEN_PREFIX}{prefix}_{secret[8:]}"
    try:
        with transaction.atomic():
            row = ApiToken.objects.create(
                user=user,
                name=name[:100],
                prefix=prefix,
                digest=digest_of(token),
                scopes=scopes,
                expires_at=expires_at,
            )
    except IntegrityError as error:
        raise ValidationError({"name": ["You already have a token with this name."]}) from error
    return row, token


def scim_scope_problem(user, scopes) -> str:
    """A SCIM token creates, changes and deactivates people: it belongs to a service account
    (made by an admin) and holds that scope alone, so it can do nothing else and nobody's own
    token can provision people. Returns what is wrong, or "" when nothing is."""
    if Scope.SCIM not in scopes:
        return ""
    if len(scopes) > 1:
        return "A SCIM token holds the scim scope alone: make another token for the rest."
    if not user.is_service_account:
        return "Only a service account (the identity provider's) holds a SCIM token."
    return ""


def revoke_token(token: ApiToken) -> ApiToken:
    """Revokes a token at once; a revoked token cannot be revoked again (409)."""
    now = timezone.now()
    if not ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now):
        raise TransitionNotAllowed("This token is already revoked.")
    token.revoked_at = now
    return token


def authenticate_token(token: str) -> ApiToken:
    if not token.startswith(TOKEN_PREFIX):
        raise exceptions.AuthenticationFailed("Invalid token.")
    row = ApiToken.objects.select_related("user").filter(digest=digest_of(token)).first()
    if row is None or not row.user.is_active:
        raise exceptions.AuthenticationFailed("Invalid token.")
    if row.revoked_at is not None:
        raise exceptions.AuthenticationFailed("This token was revoked.")
    now = timezone.now()
    if row.expires_at <= now:
        raise exceptions.AuthenticationFailed("This token has expired.")
    # Written at most once a minute per token: use is visible without a write per call.
    if row.last_used_at is None or row.last_used_at < now - timedelta(minutes=1):
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer tdm_…`."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send one token: Authorization: Bearer tdm_….")
        try:
            token = header[1].decode()
        except UnicodeError as error:
            raise exceptions.AuthenticationFailed("Invalid token.") from error
        row = authenticate_token(token)
        # The scope is checked here rather than in a permission class, so that no view can
        # leave it out by setting its own permission_classes.
        view = (getattr(request, "parser_context", None) or {}).get("view")
        scope = required_scope(request, view)
        if scope not in row.scopes:
            raise exceptions.PermissionDenied(
                f"This token lacks the '{scope}' scope this call needs."
            )
        return row.user, row

    def authenticate_header(self, request):
        return self.keyword


LEGACY_TOKEN_REFUSED = (
    "Unscoped tokens (Authorization: Token …) are no longer accepted. Use a scoped API token, "
    "sent as Authorization: Bearer tdm_…: make one at /accounts/api-tokens/ or with "
    "POST /api/auth/token/. A token you already had was converted and works until its expiry "
    "(see /accounts/api-tokens/) when sent as Bearer tdm_<its first 8 characters>_<the rest>."
)


class LegacyTokenRefusal(authentication.BaseAuthentication):
    """`Authorization: Token …`, DRF's unscoped tokens that never expired: always a 401 that
    says what to send instead (the ones in use became scoped, expiring tokens, migration
    accounts 0007), never a sign-in."""

    keyword = "Token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if header and header[0].lower() == self.keyword.lower().encode():
            raise exceptions.AuthenticationFailed(LEGACY_TOKEN_REFUSED)
        return None

    def authenticate_header(self, request):
        return ApiTokenAuthentication.keyword


def required_scope(request, view) -> str:
    """read for reading (and for views that declare `token_scope = "read"`, such as the rule
    preview); decide for decisions on approval steps (views list them in `decide_actions`);
    write for every other change."""
    if request.method in permissions.SAFE_METHODS:
        return Scope.READ.value
    if getattr(view, "token_scope", None):
        return view.token_scope
    if getattr(view, "action", None) in getattr(view, "decide_actions", ()):
        return Scope.DECIDE.value
    return Scope.WRITE.value


class SessionOnly(permissions.BasePermission):
    """Managing API tokens needs a signed-in person: a token never makes or lists tokens."""

    message = "Manage API tokens while signed in, not with a token."

    def has_permission(self, request, view):
        return request.user.is_authenticated and request.auth is None
