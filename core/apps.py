from django.apps import AppConfig
from django.conf import settings


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Tandem core"

    def ready(self):
        if settings.LOG_JSON:
            # After django.setup() applied LOGGING, before Celery sets up its own logging.
            from .logging import every_line_json

            every_line_json()
