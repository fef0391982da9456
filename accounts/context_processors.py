from django.utils.functional import SimpleLazyObject

from .roles import is_reviewer


def roles(request):
    """`is_reviewer` for the layout's menu; reads the user's groups at most once per request."""
    user = getattr(request, "user", None)
    return {"is_reviewer": SimpleLazyObject(lambda: is_reviewer(user))}
