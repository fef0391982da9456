from django.utils.functional import SimpleLazyObject

from .services import unread_for


def unread(request):
    """The count of unread in-app notifications in the layout's menu, read only when shown."""
    user = getattr(request, "user", None)

    def unread_notifications():
        if not (user and user.is_authenticated):
            return 0
        return unread_for(user).count()

    return {"unread_notifications": SimpleLazyObject(unread_notifications)}
