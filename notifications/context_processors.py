from django.utils.functional import SimpleLazyObject

from core.formats import badge_count

from .services import unread_for


def unread(request):
    """The count of unread in-app notifications in the layout's menu (up to 99, then "99+"),
    read only when shown."""
    user = getattr(request, "user", None)

    def unread_notifications():
        if not (user and user.is_authenticated):
            return 0
        return badge_count(unread_for(user))

    return {"unread_notifications": SimpleLazyObject(unread_notifications)}
