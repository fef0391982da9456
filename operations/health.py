"""What `/readyz`, the health commands and the operations page check. Each check answers True
or False and never raises: the callers name only the part that failed, never why (a reason
could reveal hosts, users or versions)."""

import logging

from celery import current_app
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

logger = logging.getLogger(__name__)

DATABASE = "database"
MIGRATIONS = "migrations"
BROKER = "broker"
BROKER_TIMEOUT = 2  # seconds

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


def failing_parts() -> list[str]:
    """The parts of the application that are not ready, in the order they are checked: the
    migrations are only checked when the database answers."""
    failing = []
    if not database_ok():
        failing.append(DATABASE)
    elif not migrations_ok():
        failing.append(MIGRATIONS)
    if not broker_ok():
        failing.append(BROKER)
    return failing


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
