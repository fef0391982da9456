"""What `/readyz`, `/healthz/deep`, the health commands and the operations page check. Each
check answers True or False and never raises: the callers name only the part that failed, never
why (a reason could reveal hosts, users or versions).

Two questions, kept apart so that a degraded part never takes the site down:
- can this web process serve? (`serving_failures`: the database and its migrations; /readyz) A
  load balancer stops sending traffic to a web process that answers no, so only what a page
  cannot do without belongs here: Redis is not (a stopped broker leaves notifications in the
  outbox, a stopped cache is a miss).
- is the whole system working? (`deep_checks`: also the broker, the worker, beat, the outbox
  and the audit sealer; /healthz/deep) for monitoring, which pages a person instead of routing
  traffic away."""

import logging
from datetime import timedelta

from celery import current_app
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from audit import sealer
from core import heartbeats

from . import selectors

logger = logging.getLogger(__name__)

DATABASE = "database"
MIGRATIONS = "migrations"
BROKER = "broker"
WORKER = "worker"
BEAT = "beat"
OUTBOX = "outbox"
SEALER = "sealer"
BROKER_TIMEOUT = 2  # seconds
# Beat's scheduler records a heartbeat every 15 s (operations.scheduler), as `check_beat` reads.
BEAT_MAX_AGE = timedelta(seconds=60)
# A worker completes the periodic delivery (notifications.tasks.deliver_pending, every minute)
# and records a heartbeat: three missed runs mean no worker is taking work.
WORKER_MAX_AGE = timedelta(minutes=3)
# The oldest notification still waiting for delivery (as the suggested metrics alert: 900 s).
OUTBOX_MAX_AGE = timedelta(minutes=15)

_migrated = False


def database_ok() -> bool:
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        logger.warning("readiness: the database is not reachable", exc_info=True)
        return False
    return True


def migrations_ok() -> bool:
    """Every migration on disk is applied. Once true it stays true for the process (migrations
    are not unapplied under a running application), so /readyz stays cheap."""
    global _migrated
    if _migrated:
        return True
    try:
        connection = connections[DEFAULT_DB_ALIAS]
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception:  # noqa: BLE001
        logger.warning("readiness: the migrations could not be read", exc_info=True)
        return False
    if plan:
        logger.warning("readiness: %s migrations are not applied", len(plan))
        return False
    _migrated = True
    return True


def broker_connection(app=None, timeout: float = BROKER_TIMEOUT):
    """A connection to Celery's broker that gives up after `timeout` seconds."""
    app = app or current_app
    return app.connection_for_write(
        connect_timeout=timeout,
        transport_options={"socket_connect_timeout": timeout, "socket_timeout": timeout},
    )


def broker_ok(app=None, timeout: float = BROKER_TIMEOUT) -> bool:
    try:
        with broker_connection(app, timeout) as connection:
            connection.ensure_connection(
                max_retries=1, interval_start=0, interval_step=0, timeout=timeout
            )
            # Redis connects lazily: opening a channel talks to the server.
            connection.default_channel  # noqa: B018
    except Exception:  # noqa: BLE001
        logger.warning("readiness: the broker is not reachable", exc_info=True)
        return False
    return True


def serving_failures() -> list[str]:
    """What this web process needs to serve (/readyz, `check_ready`): the database, and, when it
    answers, every migration applied."""
    if not database_ok():
        return [DATABASE]
    if not migrations_ok():
        return [MIGRATIONS]
    return []


def failing_parts() -> list[str]:
    """The serving parts and the broker, in the order they are checked (the operations page)."""
    failing = serving_failures()
    if not broker_ok():
        failing.append(BROKER)
    return failing


def _recent(name: str, beats: dict, now, max_age: timedelta) -> bool:
    at = beats.get(name)
    return at is not None and now - at <= max_age


def _outbox_ok(now) -> bool:
    oldest = selectors.oldest_undelivered_at()
    return oldest is None or now - oldest <= OUTBOX_MAX_AGE


def deep_checks(now=None) -> dict[str, bool | None]:
    """Every part of the system (/healthz/deep): True working, False failing, None unknown (the
    heartbeats and the outbox are read from the database, which did not answer)."""
    now = now or timezone.now()
    serving = serving_failures()
    checks: dict[str, bool | None] = {
        DATABASE: DATABASE not in serving,
        MIGRATIONS: None if DATABASE in serving else MIGRATIONS not in serving,
        BROKER: broker_ok(),
        WORKER: None,
        BEAT: None,
        OUTBOX: None,
        SEALER: None,
    }
    if DATABASE in serving:
        return checks
    try:
        beats = heartbeats.all_last()
        checks[WORKER] = _recent(heartbeats.DELIVERY, beats, now, WORKER_MAX_AGE)
        checks[BEAT] = _recent(heartbeats.BEAT, beats, now, BEAT_MAX_AGE)
        checks[OUTBOX] = _outbox_ok(now)
        checks[SEALER] = sealer.sealing_ok(now)
    except Exception:  # noqa: BLE001 - the database went away between two checks
        logger.warning("deep health: the heartbeats could not be read", exc_info=True)
    return checks


def queue_length(queue: str = "celery", app=None, timeout: float = BROKER_TIMEOUT) -> int | None:
    """Messages waiting in Celery's queue at the broker; None when the broker does not answer."""
    try:
        with broker_connection(app, timeout) as connection:
            connection.ensure_connection(
                max_retries=1, interval_start=0, interval_step=0, timeout=timeout
            )
            channel = connection.default_channel
            if hasattr(channel, "_size"):  # kombu's virtual transports: Redis, memory, files
                return int(channel._size(queue))
            return int(channel.queue_declare(queue=queue, passive=True).message_count)
    except Exception:  # noqa: BLE001
        logger.warning("metrics: the broker's queue length is unknown", exc_info=True)
        return None
