from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit trail"

    def ready(self):
        # Registers the Celery tasks in every process (web too), so that the sealer is asked for
        # by name (core.tasks.enqueue) after each commit.
        from . import tasks  # noqa: F401
