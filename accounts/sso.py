"""Sign-in with the company's identity provider (OpenID Connect, through django-allauth):
which provider is configured, how a first sign-in makes the person, how every sign-in applies
their claims (accounts.services.apply_claims), and the provider's back-channel logout token.
docs/administer/sso.md tells an operator how to connect Entra ID, Okta or Keycloak."""

import threading
import time
from urllib.parse import urlsplit

import jwt
import requests
from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.account.internal.flows.login import get_authentication_records
from allauth.core import context
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings

from . import services

BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
# Signature algorithms accepted on a logout token: the asymmetric ones providers sign with.
LOGOUT_TOKEN_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384"]
# A logout token older than this is refused (clocks may differ by the leeway).
LOGOUT_TOKEN_MAX_AGE = 600
LEEWAY = 60
HTTP_TIMEOUT = 10


def provider_app() -> dict | None:
    """The configured provider's allauth app settings, or None when SSO is off."""
    apps = (settings.SOCIALACCOUNT_PROVIDERS.get("openid_connect") or {}).get("APPS") or []
    return apps[0] if apps else None


def is_configured() -> bool:
    return provider_app() is not None


# Where the browser is sent to sign in (the discovered authorization endpoint), kept per issuer
# for an hour; when discovery fails it is tried again after a minute, the issuer's own origin
# standing in meanwhile. A short timeout: a page waits for this at most once per process.
DISCOVERY_TTL = 3600
DISCOVERY_RETRY = 60
DISCOVERY_TIMEOUT = 3
_discovered: dict[str, tuple[float, str]] = {}
_discovery_lock = threading.Lock()


def origin_of(url: str) -> str | None:
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def form_targets() -> tuple[str, ...]:
    """The origins a sign-in form may lead the browser to, for the CSP's form-action: allauth
    answers the "Sign in with …" POST with a redirect to the provider's authorization endpoint,
    and browsers hold a form's redirects to form-action. The issuer's origin, and the
    authorization endpoint's (from the app's `openid_configuration_overrides`, else discovered)
    where it names another one. None without a provider."""
    app = provider_app()
    if app is None:
        return ()
    overrides = app["settings"].get("openid_configuration_overrides") or {}
    authorize = overrides.get("authorization_endpoint") or discovered_authorization_endpoint(app)
    origins = (origin_of(app["settings"]["server_url"]), origin_of(authorize))
    return tuple(dict.fromkeys(origin for origin in origins if origin))


def discovered_authorization_endpoint(app: dict) -> str:
    server_url = app["settings"]["server_url"]
    known = _discovered.get(server_url)
    if known is not None and known[0] > time.monotonic():
        return known[1]
    with _discovery_lock:
        now = time.monotonic()
        known = _discovered.get(server_url)
        if known is not None and known[0] > now:
            return known[1]
        try:
            config = provider_configuration(app, timeout=DISCOVERY_TIMEOUT)
            endpoint = config["authorization_endpoint"] if isinstance(config, dict) else ""
            found = (now + DISCOVERY_TTL, endpoint if isinstance(endpoint, str) else "")
        except (requests.RequestException, ValueError, KeyError):
            found = (now + DISCOVERY_RETRY, "")
        _discovered[server_url] = found
        return found[1]


def signed_in_with_provider(request) -> bool:
    """Whether this session's sign-in was through the identity provider (not a password)."""
    user = getattr(request, "user", None)
    records = get_authentication_records(request, user)
    return any(record.get("method") == "socialaccount" for record in records)


def signed_in_with_second_factor(request) -> bool:
    records = get_authentication_records(request, getattr(request, "user", None))
    return any(record.get("method") == "mfa" for record in records)


def claims_of(sociallogin) -> dict:
    """The ID token's claims, overlaid with the user info endpoint's (which may hold more)."""
    data = sociallogin.account.extra_data or {}
    return {**(data.get("id_token") or {}), **(data.get("userinfo") or {})}


class AccountAdapter(DefaultAccountAdapter):
    """Nobody signs up with a password: admins make local users; the provider makes the rest."""

    QUIET = ("account/messages/logged_in.txt", "account/messages/logged_out.txt")

    def is_open_for_signup(self, request):
        return False

    def is_reauthentication_required(self, *, app, **kwargs):
        """A sign-in of the last few minutes counts as re-entering the password: the person sent
        to set up two-factor codes right after signing in is not asked for it again."""
        request = context.request
        records = get_authentication_records(request, getattr(request, "user", None))
        fresh = time.time() - account_settings.REAUTHENTICATION_TIMEOUT
        if records and records[-1].get("at", 0) > fresh:
            return False
        return super().is_reauthentication_required(app=app, **kwargs)

    def add_message(self, request, level, message_template=None, *args, **kwargs):
        if message_template in self.QUIET:
            return
        super().add_message(request, level, message_template, *args, **kwargs)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """A person signing in through the provider for the first time gets a Tandem user, found
    again by the provider's `sub` (never by e-mail address), named by their
    `preferred_username` when free."""

    def is_open_for_signup(self, request, sociallogin):
        return is_configured()

    def populate_user(self, request, sociallogin, data):
        user = super().populate_user(request, sociallogin, data)
        email = data.get("email") or ""
        user.username = get_account_adapter().generate_unique_username(
            [data.get("username"), email.split("@")[0], data.get("first_name"), "user"]
        )
        return user


def on_user_logged_in(sender, request, user, sociallogin=None, **kwargs):
    """allauth's `user_logged_in`: each sign-in through the provider re-applies the claims."""
    if sociallogin is not None:
        services.apply_claims(user, claims_of(sociallogin))


# Back-channel logout (OpenID Connect Back-Channel Logout 1.0)


class InvalidLogoutToken(Exception):
    pass


def provider_configuration(app: dict, *, timeout: float = HTTP_TIMEOUT) -> dict:
    url = app["settings"]["server_url"].rstrip("/")
    if "/.well-known/" not in url:
        url += "/.well-known/openid-configuration"
    response = requests.get(url, timeout=timeout)
    response.raise_for_status()
    return response.json()


def verify_logout_token(token: str) -> dict:
    """The claims of a logout token the provider signed for Tandem, or InvalidLogoutToken."""
    app = provider_app()
    if app is None:
        raise InvalidLogoutToken("No identity provider is configured.")
    try:
        config = provider_configuration(app)
        signing_key = jwt.PyJWKClient(config["jwks_uri"], timeout=HTTP_TIMEOUT)
        key = signing_key.get_signing_key_from_jwt(token).key
        claims = jwt.decode(
            token,
            key=key,
            algorithms=LOGOUT_TOKEN_ALGORITHMS,
            audience=app["client_id"],
            issuer=config["issuer"],
            leeway=LEEWAY,
            options={"require": ["iat", "iss", "aud"]},
        )
    except (jwt.PyJWTError, requests.RequestException, KeyError, ValueError) as error:
        raise InvalidLogoutToken(f"The logout token is not valid: {error}") from error
    events = claims.get("events")
    if not isinstance(events, dict) or BACKCHANNEL_LOGOUT_EVENT not in events:
        raise InvalidLogoutToken("The logout token lacks the back-channel logout event.")
    if "nonce" in claims:
        raise InvalidLogoutToken("A logout token carries no nonce.")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise InvalidLogoutToken("The logout token names no subject (sub).")
    if claims["iat"] < time.time() - LOGOUT_TOKEN_MAX_AGE:
        raise InvalidLogoutToken("The logout token is too old.")
    return claims
