from django.core.management.base import BaseCommand

from approvals.reminders import sweep_due_steps


class Command(BaseCommand):
    help = "Runs the reminder and escalation sweep once (Celery beat runs it every 5 minutes)."

    def handle(self, *args, **options):
        self.stdout.write(f"{sweep_due_steps()} alerts recorded")
