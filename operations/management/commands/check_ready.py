from django.core.management.base import BaseCommand, CommandError

from operations import health


class Command(BaseCommand):
    help = (
        "What /readyz checks, from the command line: the database, its migrations and the "
        "Celery broker. Exits 1 naming the failing parts."
    )

    def handle(self, *args, **options):
        failing = health.failing_parts()
        if failing:
            raise CommandError(f"not ready: {', '.join(failing)}")
        self.stdout.write("ok")
