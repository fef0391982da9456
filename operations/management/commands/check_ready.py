from django.core.management.base import BaseCommand, CommandError

from operations import health


class Command(BaseCommand):
    help = (
        "What /readyz checks, from the command line: the database and its migrations (what web "
        "needs to serve). Exits 1 naming the failing part."
    )

    def handle(self, *args, **options):
        failing = health.serving_failures()
        if failing:
            raise CommandError(f"not ready: {', '.join(failing)}")
        self.stdout.write("ok")
