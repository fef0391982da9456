from django.core.management.base import BaseCommand

from approvals.reminders import sweep_due_steps
from core import heartbeats


class Command(BaseCommand):
    help = "Runs the reminder and escalation sweep once (Celery beat runs it every 5 minutes)."

    def handle(self, *args, **options):
        recorded = sweep_due_steps()
        heartbeats.record(heartbeats.SWEEP)
        self.stdout.write(f"{recorded} alerts recorded")
