from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Outbound webhooks"

    def ready(self):
        from audit.services import add_listener

        from . import tasks  # noqa: F401 - registers the Celery tasks: services enqueue by name
        from .services import on_audit_event

        add_listener(on_audit_event)
