"""Local passwords: Django's check, refused in SSO-only mode except for the break-glass admins
named in TANDEM_BREAK_GLASS_ADMINS (docs/administer/sso.md). Every way to sign in with a password
comes through here: the sign-in page, the API token endpoint and the admin's."""

from django.conf import settings
from django.contrib.auth.backends import ModelBackend


def passwords_allowed_for(username: str | None) -> bool:
    if not settings.TANDEM_SSO_ONLY:
        return True
    return bool(username) and username in settings.TANDEM_BREAK_GLASS_ADMINS


class PasswordBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if not passwords_allowed_for(username):
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
