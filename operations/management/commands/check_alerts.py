from django.core.management.base import BaseCommand

from operations.alerts import raise_alerts


class Command(BaseCommand):
    help = (
        "Raises the admin alerts that are due (notifications that gave up, a stopped reminder "
        "sweep) and e-mails the admins, once each, straight through the mail server (no worker "
        "needed); an e-mail that failed before is tried again. Celery beat runs this every minute."
    )

    def handle(self, *args, **options):
        raised = raise_alerts()
        self.stdout.write(f"{len(raised)} alert(s) raised")
