"""The inbound SMTP receiver (SPEC §8a): accepts replies to "for your decision" e-mails and
hands each one to a Celery task. `make run` starts it (Procfile.dev); in production it is the
`mail` service of docker-compose.yml, behind the MX that checks DMARC and adds the
Authentication-Results header.

It accepts only mail for the personal reply addresses (decide+<token>@…) and at most
TANDEM_INBOUND_MAX_BYTES; when the broker is down it answers 451, so the sending server
tries again later."""

import base64
import logging
import signal
import threading

from aiosmtpd.controller import Controller
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connections

from reach import inbound, tasks

logger = logging.getLogger("reach.smtp")


class ReplyHandler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if inbound.token_from([address]) is None:
            return "550 5.1.1 No such reply address here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        content = envelope.original_content or envelope.content or b""
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogateescape")
        if len(content) > settings.TANDEM_INBOUND_MAX_BYTES:
            return "552 5.3.4 Message too big"
        try:
            await sync_to_async(hand_over, thread_sensitive=False)(content, envelope.rcpt_tos)
        except Exception:  # noqa: BLE001 - the sending server keeps the message and retries
            logger.exception("could not hand an inbound message to Celery")
            return "451 4.3.0 Try again later"
        return "250 2.0.0 Accepted"


def hand_over(content: bytes, recipients: list[str]) -> None:
    try:
        tasks.receive_reply.delay(base64.b64encode(content).decode("ascii"), list(recipients))
    finally:
        # A task run in this thread (eagerly) leaves no database connection behind.
        connections.close_all()


def start_receiver(host: str, port: int) -> Controller:
    """Starts the receiver in its own thread; `controller.stop()` ends it."""
    controller = Controller(
        ReplyHandler(),
        hostname=host,
        port=port,
        data_size_limit=settings.TANDEM_INBOUND_MAX_BYTES,
        server_hostname=settings.TANDEM_INBOUND_SMTP_HOSTNAME or None,
        ready_timeout=10,
    )
    controller.start()
    return controller


class Command(BaseCommand):
    help = "Receives replies to “for your decision” e-mails over SMTP and hands them to Celery."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=settings.TANDEM_INBOUND_SMTP_HOST)
        parser.add_argument("--port", type=int, default=settings.TANDEM_INBOUND_SMTP_PORT)

    def handle(self, *args, host, port, **options):
        controller = start_receiver(host, port)
        self.stdout.write(f"Receiving replies by SMTP on {host}:{port}")
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        stop.wait()
        controller.stop()
        self.stdout.write("Stopped.")
