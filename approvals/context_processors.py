from django.utils.functional import SimpleLazyObject

from . import queue_cache, selectors


def waiting_count(request):
    """`waiting_count` for the navigation: how many steps wait for the signed-in user, counted
    only when a page shows it (up to 99, then "99+"), kept with the queue (queue_cache)."""
    user = getattr(request, "user", None)

    def count():
        if not (user and user.is_authenticated):
            return ""
        return queue_cache.kept(("count", user.pk), lambda: selectors.awaiting_count(user)) or ""

    return {"waiting_count": SimpleLazyObject(count)}
