"""Prometheus metrics: django-prometheus's request, response and database counters, plus
Tandem's own gauges, computed from the database and the broker at the moment of the scrape
(`TandemCollector`), so every web process reports the same figures."""

import math
import os

import prometheus_client
from django.utils import timezone
from prometheus_client import CollectorRegistry, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from audit import sealer
from core import heartbeats, outages

from . import health, selectors


def _age(now, at) -> float:
    return (now - at).total_seconds() if at is not None else math.inf


def _database_figures(now):
    """Tandem's gauges read from the database."""
    requests = GaugeMetricFamily("tandem_requests", "Purchase requests by state.", labels=["state"])
    for state, count in selectors.requests_by_state().items():
        requests.add_metric([state], count)
    yield requests

    open_steps = GaugeMetricFamily(
        "tandem_steps_open", "Open approval steps by side.", labels=["side"]
    )
    overdue = GaugeMetricFamily(
        "tandem_steps_overdue", "Open approval steps past their SLA, by side.", labels=["side"]
    )
    for side, (open_count, overdue_count) in selectors.open_steps_by_side(now).items():
        open_steps.add_metric([side], open_count)
        overdue.add_metric([side], overdue_count)
    yield open_steps
    yield overdue

    outbox = GaugeMetricFamily(
        "tandem_outbox_notifications",
        "Notifications in the outbox by status: pending, sending, failed (will retry), "
        "gave_up (retries exhausted).",
        labels=["status"],
    )
    for status, count in selectors.outbox_by_status().items():
        outbox.add_metric([status], count)
    yield outbox
    oldest = selectors.oldest_undelivered_at()
    yield GaugeMetricFamily(
        "tandem_outbox_oldest_pending_age_seconds",
        "Age of the oldest notification waiting for delivery (0 when none waits).",
        value=max((now - oldest).total_seconds(), 0) if oldest else 0,
    )
    unsealed, unsealed_since = sealer.unsealed()
    yield GaugeMetricFamily(
        "tandem_audit_unsealed_events",
        "Audit events written and not yet chained by the sealer.",
        value=unsealed,
    )
    yield GaugeMetricFamily(
        "tandem_audit_oldest_unsealed_age_seconds",
        "Age of the oldest audit event waiting for its seal (0 when none waits); alert above "
        f"{sealer.SEAL_BOUND.total_seconds():.0f}.",
        value=max((now - unsealed_since).total_seconds(), 0) if unsealed_since else 0,
    )

    beats = heartbeats.all_last()
    sweep = selectors.sweep_status(now, beats)
    yield GaugeMetricFamily(
        "tandem_sweep_last_completed_age_seconds",
        "Seconds since the reminder sweep last completed (+Inf if it never did).",
        value=_age(now, sweep.last_completed_at),
    )
    yield GaugeMetricFamily(
        "tandem_sweep_interval_seconds",
        "The reminder sweep's configured interval.",
        value=sweep.interval.total_seconds(),
    )
    yield GaugeMetricFamily(
        "tandem_beat_heartbeat_age_seconds",
        "Seconds since Celery beat's scheduler last ticked (+Inf if it never did).",
        value=_age(now, beats.get(heartbeats.BEAT)),
    )


class TandemCollector:
    def collect(self):
        now = timezone.now()
        # While the database does not answer the scrape still answers (django-prometheus' error
        # counters matter most then): without the database's figures, with
        # tandem_database_up 0; the outage is logged once (core.outages), not at every scrape.
        try:
            from_database, database_up = list(_database_figures(now)), 1
        except outages.DATABASE_DOWN as error:
            outages.DATABASE.failed(error)
            from_database, database_up = [], 0
        else:
            outages.DATABASE.answered()
        yield GaugeMetricFamily(
            "tandem_database_up", "1 when the database answered this scrape.", value=database_up
        )
        yield from from_database

        length = health.queue_length()
        yield GaugeMetricFamily(
            "tandem_broker_up",
            "1 when the Celery broker answered this scrape.",
            value=int(length is not None),
        )
        if length is not None:
            queue = GaugeMetricFamily(
                "tandem_celery_queue_length",
                "Tasks waiting in Celery's queue at the broker.",
                labels=["queue"],
            )
            queue.add_metric(["celery"], length)
            yield queue


def render() -> tuple[bytes, str]:
    """The exposition text: the process's (or, under gunicorn with PROMETHEUS_MULTIPROC_DIR,
    every worker's) django-prometheus metrics, then Tandem's gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = prometheus_client.REGISTRY
    tandem = CollectorRegistry(auto_describe=False)
    tandem.register(TandemCollector())
    body = prometheus_client.generate_latest(registry) + prometheus_client.generate_latest(tandem)
    # The classic text format's type, which every Prometheus version reads (the body is the same).
    return body, CONTENT_TYPE_PLAIN_0_0_4
