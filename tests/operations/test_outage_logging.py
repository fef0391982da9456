"""During an outage (issue 30) the log says so once when it starts and once when it ends, per
process: not at every readiness probe, deep check, scrape, page or beat tick that meets it, and
never at ERROR with a traceback each time. Here the database's connection refuses every query,
as a stopped PostgreSQL does, and the broker is a private Redis that the test stops."""

import contextlib
import logging

import pytest
from celery import current_app
from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import Client

from core import heartbeats, outages
from core.apps import _database_answers
from operations import health
from operations.scheduler import ALERTS, HEARTBEAT, HeartbeatScheduler
from tests.operations.metrics_text import parse, value

pytestmark = pytest.mark.django_db

TOKEN = "outage-logging-token"
AUTH = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}


@pytest.fixture(autouse=True)
def _operations_token(settings, monkeypatch):
    settings.METRICS_TOKEN = TOKEN
    monkeypatch.setattr(health, "_migrated", False)


@contextlib.contextmanager
def database_refusing():
    """Every query refused, as by a stopped PostgreSQL, for the block."""
    original = BaseDatabaseWrapper.cursor

    def refuse(self, *args, **kwargs):
        raise OperationalError("connection refused")

    BaseDatabaseWrapper.cursor = refuse
    try:
        yield
    finally:
        BaseDatabaseWrapper.cursor = original


def _lines(caplog):
    """What was logged at WARNING and above, but the request lines (one per request, always)."""
    return [
        record
        for record in caplog.records
        if record.levelno >= logging.WARNING and record.name != "tandem.request"
    ]


def _heartbeats_fresh():
    for name in (heartbeats.BEAT, heartbeats.DELIVERY):
        heartbeats.record(name)


def _said(records):
    return [(record.levelname, record.name, record.getMessage()) for record in records]


# The database's failures must not be those of a test's transaction: no transaction around these.
@pytest.mark.django_db(transaction=True)
def test_a_database_outage_is_logged_once_however_many_probes_scrapes_and_pages_meet_it(
    caplog, requester
):
    client = Client(raise_request_exception=False)
    client.force_login(requester)
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.INFO, logger="tandem.request")
    with database_refusing():
        for _ in range(3):
            assert client.get("/readyz").status_code == 503
            assert client.get("/healthz/deep", **AUTH).status_code == 503
            scrape = client.get("/metrics", **AUTH)
            # The scrape answers, without the database's figures.
            assert scrape.status_code == 200
            samples = parse(scrape.content.decode())
            assert value(samples, "tandem_database_up") == 0
            assert not any(name == "tandem_requests" for name, _ in samples)
            assert client.get("/requests/").status_code == 503
            assert client.get("/api/requests/").status_code == 503

    [outage] = _lines(caplog)
    assert outage.name == "tandem.outages"
    assert outage.levelname == "WARNING"
    assert outage.getMessage().startswith("the database does not answer: ")
    assert outage.exc_info and "connection refused" in str(outage.exc_info[1])  # why, once
    # Each request still has its line, with its status.
    statuses = [(r.path, r.status) for r in caplog.records if r.name == "tandem.request"]
    assert sorted(set(statuses)) == [
        ("/api/requests/", 503),
        ("/healthz/deep", 503),
        ("/readyz", 503),
        ("/requests/", 503),
    ]
    assert len(statuses) == 12  # (a scrape that answers is not logged at INFO)

    caplog.clear()
    for _ in range(3):
        assert client.get("/readyz").status_code == 200
        assert value(parse(client.get("/metrics", **AUTH).content.decode()), "tandem_database_up")
    assert _said(_lines(caplog)) == [("WARNING", "tandem.outages", "the database answers again")]


def test_a_new_connection_tells_that_the_database_answers_again(caplog):
    outages.DATABASE.failed(OperationalError("connection refused"))
    caplog.clear()
    _database_answers(sender=None, connection=None)
    _database_answers(sender=None, connection=None)
    assert [r.getMessage() for r in _lines(caplog)] == ["the database answers again"]


def test_unapplied_migrations_are_logged_once_until_they_are_applied(caplog, monkeypatch):
    from django.db.migrations.executor import MigrationExecutor

    plan = MigrationExecutor.migration_plan
    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: ["pending"])
    caplog.set_level(logging.INFO)
    for _ in range(3):
        assert Client().get("/readyz").json()["failing"] == ["migrations"]
    monkeypatch.setattr(MigrationExecutor, "migration_plan", plan)
    assert Client().get("/readyz").status_code == 200
    assert [r.getMessage().split(":")[0] for r in _lines(caplog)] == [
        "the database's migrations are not all applied",
        "the database's migrations are all applied",
    ]


def test_a_stopped_worker_and_beat_are_logged_once_by_the_deep_checks(caplog):
    client = Client()
    caplog.set_level(logging.INFO)
    for _ in range(3):
        assert client.get("/healthz/deep", **AUTH).json()["failing"] == ["worker", "beat"]
    assert [r.getMessage().split(":")[0] for r in _lines(caplog)] == [
        "no worker completed the periodic delivery within 3 minutes",
        "beat's heartbeat is over 60 s old",
    ]

    caplog.clear()
    _heartbeats_fresh()
    for _ in range(3):
        assert client.get("/healthz/deep", **AUTH).status_code == 200
    assert [r.getMessage() for r in _lines(caplog)] == [
        "a worker completes the periodic delivery again",
        "beat's heartbeat is fresh again",
    ]


@pytest.mark.redis
def test_a_broker_outage_is_logged_once_by_the_deep_checks_and_the_scrapes(caplog, broker_at):
    client = Client()
    _heartbeats_fresh()
    caplog.set_level(logging.INFO)
    assert value(parse(client.get("/metrics", **AUTH).content.decode()), "tandem_broker_up") == 1
    broker_at.stop()
    for _ in range(3):
        body = client.get("/healthz/deep", **AUTH).json()
        assert "broker" in body["failing"]
        samples = parse(client.get("/metrics", **AUTH).content.decode())
        assert value(samples, "tandem_broker_up") == 0
    [outage] = _lines(caplog)
    assert outage.getMessage().startswith("the Celery broker unavailable: ")
    assert outage.exc_info  # why, once

    caplog.clear()
    broker_at.start()
    for _ in range(3):
        samples = parse(client.get("/metrics", **AUTH).content.decode())
        assert value(samples, "tandem_broker_up") == 1
    assert _said(_lines(caplog)) == [
        ("WARNING", "tandem.outages", "the Celery broker answers again")
    ]


@pytest.mark.django_db(transaction=True)
def test_beat_logs_a_database_outage_once_not_at_every_tick(caplog, monkeypatch):
    """Beat's own work (heartbeat, alerts) and django-celery-beat's schedule reads, which would
    log a traceback at each tick (every few seconds) while the database does not answer."""
    scheduler = HeartbeatScheduler(app=current_app, lazy=True)
    caplog.set_level(logging.INFO)
    with database_refusing():
        for _ in range(3):
            HeartbeatScheduler._guarded(lambda: heartbeats.record(heartbeats.BEAT), HEARTBEAT)
            HeartbeatScheduler._guarded(HeartbeatScheduler._raise_alerts, ALERTS)
            assert scheduler.schedule_changed() is False  # django-celery-beat's own read
            scheduler._dirty.add("anything")
            scheduler.sync()
    assert [r.getMessage().split(":")[0] for r in _lines(caplog)] == [
        "the database does not answer"
    ]

    caplog.clear()
    HeartbeatScheduler._guarded(lambda: heartbeats.record(heartbeats.BEAT), HEARTBEAT)
    assert _said(_lines(caplog)) == [("WARNING", "tandem.outages", "the database answers again")]


def test_beat_logs_another_failure_of_its_work_once_until_it_works_again(caplog):
    caplog.set_level(logging.INFO)

    def broken():
        raise RuntimeError("the mail server said no")

    for _ in range(3):
        HeartbeatScheduler._guarded(broken, ALERTS)
    [failure] = _lines(caplog)
    assert failure.getMessage() == "beat could not check the alerts"
    assert "the mail server said no" in str(failure.exc_info[1])

    caplog.clear()
    HeartbeatScheduler._guarded(lambda: None, ALERTS)
    HeartbeatScheduler._guarded(lambda: None, ALERTS)
    assert [r.getMessage() for r in _lines(caplog)] == ["beat checks the alerts again"]
