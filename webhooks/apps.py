from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Outbound webhooks"

    def ready(self):
        from audit.services import add_listener

        from .services import on_audit_event

        add_listener(on_audit_event)
