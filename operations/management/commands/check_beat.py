from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from core import heartbeats


class Command(BaseCommand):
    help = (
        "Health of Celery beat: its scheduler (operations.scheduler.HeartbeatScheduler) has "
        "recorded a heartbeat within --max-age seconds. Exits 1 otherwise."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--max-age", type=float, default=60.0, help="seconds (default 60; beat beats every 15)"
        )

    def handle(self, *args, max_age=60.0, **options):
        try:
            last = heartbeats.last(heartbeats.BEAT)
        except Exception as error:  # noqa: BLE001 - the database is down
            raise CommandError(
                f"unhealthy: the database did not answer ({type(error).__name__})"
            ) from None
        if last is None:
            raise CommandError("unhealthy: beat has never recorded a heartbeat")
        age = (timezone.now() - last).total_seconds()
        if age > max_age:
            raise CommandError(f"unhealthy: beat's last heartbeat was {age:.0f}s ago")
        self.stdout.write(f"ok: last heartbeat {age:.0f}s ago")
