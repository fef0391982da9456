"""Celery beat's scheduler: django-celery-beat's DatabaseScheduler (schedules in the database,
editable in the admin) that also leaves a heartbeat (`manage.py check_beat` reads it) and
raises the admin alerts (operations.alerts) from inside beat, so that a stopped worker, which
would never run a scheduled check, is still noticed; their e-mails go from here too, straight
to the mail server, never through the worker or the broker."""

import logging
import time

from django.db import close_old_connections, connection
from django_celery_beat.schedulers import DatabaseScheduler

from core import heartbeats

logger = logging.getLogger(__name__)

HEARTBEAT_EVERY = 15  # seconds
ALERTS_EVERY = 60  # seconds


class HeartbeatScheduler(DatabaseScheduler):
    _last_heartbeat = 0.0
    _last_alerts = 0.0

    def tick(self, *args, **kwargs):
        interval = super().tick(*args, **kwargs)
        now = time.monotonic()
        if now - self._last_heartbeat >= HEARTBEAT_EVERY:
            self._last_heartbeat = now
            self._guarded(lambda: heartbeats.record(heartbeats.BEAT), "record its heartbeat")
        if now - self._last_alerts >= ALERTS_EVERY:
            self._last_alerts = now
            self._guarded(self._raise_alerts, "check the alerts")
        return min(interval, HEARTBEAT_EVERY)

    @staticmethod
    def _raise_alerts():
        from .alerts import raise_alerts

        raise_alerts()

    @staticmethod
    def _guarded(work, what: str) -> None:
        """Beat keeps scheduling whatever happens here (a database outage, a bad mail server)."""
        try:
            if not connection.in_atomic_block:
                # A connection a database restart broke is replaced (never mid-transaction).
                close_old_connections()
            work()
        except Exception:  # noqa: BLE001
            logger.exception("beat could not %s", what)
