from django.apps import AppConfig
from django.conf import settings
from django.db.backends.signals import connection_created


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Tandem core"

    def ready(self):
        connection_created.connect(_database_answers, dispatch_uid="core.outages.database")
        if settings.LOG_JSON:
            # After django.setup() applied LOGGING, before Celery sets up its own logging.
            from .logging import every_line_json

            every_line_json()


def _database_answers(sender, connection, **kwargs):
    """A new connection to the database: it answers (again, after an outage: logged once)."""
    from .outages import DATABASE

    DATABASE.answered()
