from django.utils.functional import SimpleLazyObject

from .policies import can_use_admin
from .roles import is_reviewer


def roles(request):
    """`is_reviewer` for the layout's menu; reads the user's groups at most once per request.
    `may_use_admin`: a link into the admin is shown only to those it lets in."""
    user = getattr(request, "user", None)
    return {
        "is_reviewer": SimpleLazyObject(lambda: is_reviewer(user)),
        "may_use_admin": SimpleLazyObject(
            lambda: user is not None and bool(can_use_admin(request))
        ),
    }
