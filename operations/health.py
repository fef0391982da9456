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
  traffic away.

During an outage the checks run at every probe, scrape and page view, and their failures are
logged once per change of state (core.outages): the database's (`outages.DATABASE`) and the
migrations' here, the broker's with the publishes' (core.tasks' `BROKER`)."""

from datetime import timedelta

from celery import current_app
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from audit import sealer
from core import heartbeats, outages
from core.tasks import BROKER as BROKER_STATE

from . import selectors

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
MIGRATIONS_STATE = outages.Watch(
    "the database's migrations",
    failing=(
        "the database's migrations are not all applied: /readyz answers 503 until "
        "`manage.py migrate` has run"
    ),
    answering="the database's migrations are all applied",
)
# What the deep check finds of the rest of the system, logged once per change too.
PART_STATES = {
    WORKER: outages.Watch(
        "the worker",
        failing=(
            "no worker completed the periodic delivery within "
            f"{WORKER_MAX_AGE.total_seconds() / 60:g} minutes: /healthz/deep names the worker"
        ),
        answering="a worker completes the periodic delivery again",
    ),
    BEAT: outages.Watch(
        "beat",
        failing=(
            f"beat's heartbeat is over {BEAT_MAX_AGE.total_seconds():g} s old: "
            "/healthz/deep names beat"
        ),
        answering="beat's heartbeat is fresh again",
    ),
    OUTBOX: outages.Watch(
        "the outbox",
        failing=(
            "a notification has waited for delivery over "
            f"{OUTBOX_MAX_AGE.total_seconds() / 60:g} minutes: /healthz/deep names the outbox"
        ),
        answering="the outbox delivers in time again",
    ),
    SEALER: outages.Watch(
        "the audit sealer",
        failing=(
            f"an audit event has waited for its seal over {sealer.SEAL_BOUND.total_seconds():g} "
            "s: /healthz/deep names the sealer"
        ),
        answering="the audit sealer chains in time again",
    ),
}


def database_ok() -> bool:
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # noqa: BLE001 - any failure means "not reachable"
        outages.DATABASE.failed(error)
        return False
    outages.DATABASE.answered()
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
    except Exception as error:  # noqa: BLE001
        outages.DATABASE.failed(error)
        return False
    if plan:
        MIGRATIONS_STATE.failed()
        return False
    MIGRATIONS_STATE.answered()
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
    except Exception as error:  # noqa: BLE001
        BROKER_STATE.failed(error)
        return False
    BROKER_STATE.answered()
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
    except Exception as error:  # noqa: BLE001 - the database went away between two checks
        outages.DATABASE.failed(error)
    for part, state in PART_STATES.items():
        if checks[part] is False:
            state.failed()
        elif checks[part]:
            state.answered()
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
                length = int(channel._size(queue))
            else:
                length = int(channel.queue_declare(queue=queue, passive=True).message_count)
    except Exception as error:  # noqa: BLE001
        BROKER_STATE.failed(error)
        return None
    BROKER_STATE.answered()
    return length
