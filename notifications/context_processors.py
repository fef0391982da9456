from django.utils.functional import SimpleLazyObject

from .services import unread_for

# The menu counts unread notifications up to this, then shows "99+": a busy reviewer's
# thousands cost no more to count than a hundred.
UNREAD_SHOWN = 99


def unread(request):
    """The count of unread in-app notifications in the layout's menu, read only when shown."""
    user = getattr(request, "user", None)

    def unread_notifications():
        if not (user and user.is_authenticated):
            return 0
        found = unread_for(user).order_by()[: UNREAD_SHOWN + 1].count()
        return f"{UNREAD_SHOWN}+" if found > UNREAD_SHOWN else found

    return {"unread_notifications": SimpleLazyObject(unread_notifications)}
