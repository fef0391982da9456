from django.utils.functional import SimpleLazyObject

from .models import Channel, Notification


def unread(request):
    """The count of unread in-app notifications in the layout's menu, read only when shown."""
    user = getattr(request, "user", None)

    def unread_notifications():
        if not (user and user.is_authenticated):
            return 0
        return Notification.objects.filter(
            recipient=user, channel=Channel.IN_APP, read_at__isnull=True
        ).count()

    return {"unread_notifications": SimpleLazyObject(unread_notifications)}
