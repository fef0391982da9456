import socket

from celery import current_app
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Health of a Celery worker: it answers a ping through the broker within the timeout. "
        "Without --node, the worker of this host (celery@<hostname>, as in a container)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--node",
            default=None,
            help="the worker's node name (default celery@<this host's name>); 'any' for any",
        )
        parser.add_argument("--timeout", type=float, default=5.0, help="seconds (default 5)")

    def handle(self, *args, node=None, timeout=5.0, **options):
        node = node or f"celery@{socket.gethostname()}"
        destination = None if node == "any" else [node]
        try:
            replies = current_app.control.ping(destination=destination, timeout=timeout)
        except Exception as error:  # noqa: BLE001 - the broker is down: not healthy either
            raise CommandError(
                f"unhealthy: the broker did not answer ({type(error).__name__})"
            ) from None
        answered = [name for reply in replies for name in reply]
        if not answered:
            raise CommandError(f"unhealthy: no answer from {node} within {timeout:g}s")
        self.stdout.write(f"ok: {', '.join(sorted(answered))}")
