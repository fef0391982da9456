"""Who may open Django's admin (SPEC §1, §6: admins configure rules, people and settings)."""

from django.contrib import admin

from core.policies import ALLOWED, Verdict, deny


def can_use_admin(request) -> Verdict:
    """Whom the admin site itself lets in (AdminSite.has_permission: active staff). Every page
    that links into the admin, and the answer to anyone else opening an admin address, ask
    this one rule."""
    if admin.site.has_permission(request):
        return ALLOWED
    return deny("The admin is for Tandem's administrators.")
