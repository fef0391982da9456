from django.utils.functional import SimpleLazyObject

from accounts.roles import ALL_GROUPS, has_role
from notifications.models import Channel, Notification


def roles(request):
    """`is_reviewer` for the layout's menu; reads the user's groups at most once per request."""
    user = getattr(request, "user", None)

    def is_reviewer():
        return bool(
            user and user.is_authenticated and (user.is_staff or has_role(user, *ALL_GROUPS))
        )

    def unread_notifications():
        if not (user and user.is_authenticated):
            return 0
        return Notification.objects.filter(
            recipient=user, channel=Channel.IN_APP, read_at__isnull=True
        ).count()

    return {
        "is_reviewer": SimpleLazyObject(is_reviewer),
        "unread_notifications": SimpleLazyObject(unread_notifications),
    }
