from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self):
        # Registers the Celery tasks in every process (web too), so that services enqueue them
        # by name without importing the module that imports them (no import circle).
        from . import tasks  # noqa: F401
