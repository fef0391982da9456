"""Who may open Django's admin (SPEC §1, §6: admins configure rules, people and settings), and
who may keep a Tandem password beside the identity provider's sign-in."""

from django.contrib import admin

from core.policies import ALLOWED, Verdict, deny


def can_use_admin(request) -> Verdict:
    """Whom the admin site itself lets in (AdminSite.has_permission: active staff). Every page
    that links into the admin, and the answer to anyone else opening an admin address, ask
    this one rule."""
    if admin.site.has_permission(request):
        return ALLOWED
    return deny("The admin is for Tandem's administrators.")


def may_set_local_password(user) -> Verdict:
    """A person the identity provider made (SCIM) or who signs in through it gets no Tandem
    password, so that leaving the provider, and its sign-in checks, cannot be walked around;
    an admin may allow one for somebody ("may set local password" on the person)."""
    if user.may_set_local_password:
        return ALLOWED
    if user.provisioned_at is not None or user.socialaccount_set.exists():
        return deny(
            "You sign in through the company's identity provider, so you have no Tandem "
            "password. Ask an administrator if you need one."
        )
    return ALLOWED
