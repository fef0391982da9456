"""/healthz, /readyz (issue 20) and /healthz/deep (issue 30): no sign-in, "ok" or the name of
the failing part only. /readyz asks only what web needs to serve (the database); the rest of the
system (broker, worker, beat, outbox) is /healthz/deep's, behind the operations token."""

import os
import subprocess
import sys
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from audit.sealer import SEAL_BOUND, seal_pending
from core import heartbeats
from intake import services as intake_services
from notifications.models import Channel, Notification, Status
from operations import health
from tests.factories import PurchaseRequestFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _recheck_migrations(monkeypatch):
    # /readyz remembers a successful migrations check for the process; each test starts afresh.
    monkeypatch.setattr(health, "_migrated", False)


def test_healthz_answers_ok_without_sign_in_or_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
def test_operations_endpoints_carry_the_security_headers(client, path):
    response = client.get(path)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert response["X-Request-ID"]


def test_health_endpoints_answer_any_host_and_plain_http(client, settings):
    """A container healthcheck asks by address, over HTTP, with no proxy in front."""
    settings.ALLOWED_HOSTS = ["tandem.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz", HTTP_HOST="172.18.0.5:8000").status_code == 200
    assert client.get("/readyz", HTTP_HOST="172.18.0.5:8000").status_code == 200
    # Everything else still refuses an unknown host.
    assert client.get("/accounts/login/", HTTP_HOST="172.18.0.5:8000").status_code == 400


def test_readyz_answers_ok_when_database_migrations_and_broker_are_ready(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_health_endpoints_only_answer_get(client):
    for path in ("/healthz", "/readyz"):
        response = client.post(path)
        assert response.status_code == 405
        assert response["Allow"] == "GET, HEAD"
    assert client.head("/healthz").status_code == 200


def test_readyz_names_unapplied_migrations(client):
    with connection.cursor() as cursor:
        # Every migration of the app: a plan for the app's latest, as readiness asks for.
        cursor.execute("DELETE FROM django_migrations WHERE app = 'operations'")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "failing": ["migrations"]}


@pytest.mark.redis
def test_readyz_stays_ready_while_redis_is_down_and_the_deep_check_names_the_broker(
    client, broker_at, settings
):
    """A broker outage leaves web serving (notifications wait in the outbox): the load balancer
    keeps sending traffic, while monitoring sees the broker failing."""
    settings.METRICS_TOKEN = TOKEN
    _all_heartbeats_fresh()
    assert client.get("/readyz").status_code == 200
    assert deep(client) == (200, {"status": "ok", "checks": dict.fromkeys(health_parts(), "ok")})

    broker_at.stop()
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    status, body = deep(client)
    assert status == 503
    assert body["failing"] == ["broker"]
    assert body["checks"]["broker"] == "failing"
    assert body["checks"]["database"] == "ok"
    # Only the failing part: no host, port, address or error text.
    assert str(broker_at.port) not in str(body)

    broker_at.start()
    assert deep(client)[0] == 200


TOKEN = "s3cret-operations-token"


def health_parts():
    return ["database", "migrations", "broker", "worker", "beat", "outbox", "sealer"]


def deep(client, token=TOKEN):
    response = client.get("/healthz/deep", HTTP_AUTHORIZATION=f"Bearer {token}")
    return response.status_code, response.json() if response.status_code in (200, 503) else None


def _all_heartbeats_fresh(at=None):
    for name in (heartbeats.BEAT, heartbeats.DELIVERY):
        heartbeats.record(name, at=at)


def test_deep_health_needs_the_operations_token(client, settings, admin_user):
    settings.METRICS_TOKEN = ""
    assert client.get("/healthz/deep").status_code == 404
    settings.METRICS_TOKEN = TOKEN
    for authorization in (None, "Bearer wrong", f"Token {TOKEN}"):
        extra = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
        response = client.get("/healthz/deep", **extra)
        assert response.status_code == 401
        assert b"broker" not in response.content
    client.force_login(admin_user)
    assert client.get("/healthz/deep").status_code == 401
    assert client.post("/healthz/deep", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 405


def test_deep_health_is_ok_when_every_part_works(client, settings):
    settings.METRICS_TOKEN = TOKEN
    _all_heartbeats_fresh()
    status, body = deep(client)
    assert status == 200
    assert body == {"status": "ok", "checks": dict.fromkeys(health_parts(), "ok")}
    assert client.get("/healthz/deep/", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200


def test_deep_health_names_a_dead_worker_and_a_stopped_beat_while_readyz_stays_ready(
    client, settings
):
    settings.METRICS_TOKEN = TOKEN
    now = timezone.now()
    heartbeats.record(heartbeats.BEAT, at=now - timedelta(seconds=30))
    heartbeats.record(heartbeats.DELIVERY, at=now - timedelta(minutes=2))
    with time_machine.travel(now, tick=False):
        assert deep(client)[0] == 200
    # Beat stops (no heartbeat for over a minute); the worker has not delivered for 3 minutes.
    with time_machine.travel(now + timedelta(seconds=35), tick=False):
        status, body = deep(client)
        assert (status, body["failing"]) == (503, ["beat"])
    with time_machine.travel(now + timedelta(minutes=1, seconds=5), tick=False):
        status, body = deep(client)
        assert (status, body["failing"]) == (503, ["worker", "beat"])
        assert client.get("/readyz").status_code == 200


def test_deep_health_names_the_worker_and_beat_that_never_beat(client, settings):
    settings.METRICS_TOKEN = TOKEN
    status, body = deep(client)
    assert status == 503
    assert body["failing"] == ["worker", "beat"]
    assert body["checks"]["outbox"] == "ok"


def test_deep_health_names_an_outbox_that_waits_too_long(client, settings):
    settings.METRICS_TOKEN = TOKEN
    written = timezone.now()
    with time_machine.travel(written, tick=False):
        Notification.objects.create(
            recipient=UserFactory(), channel=Channel.EMAIL, subject="s", body="b", url="/",
            status=Status.PENDING,
        )  # fmt: skip
    with time_machine.travel(written + timedelta(minutes=14), tick=False):
        _all_heartbeats_fresh()
        assert deep(client)[0] == 200
    with time_machine.travel(written + timedelta(minutes=16), tick=False):
        _all_heartbeats_fresh()
        status, body = deep(client)
        assert (status, body["failing"]) == (503, ["outbox"])
        assert client.get("/readyz").status_code == 200


def test_deep_health_names_an_audit_event_left_unsealed_past_the_bound(client, settings, requester):
    """An event waits for the sealer (no worker takes the `audit` queue): within SEAL_BOUND it is
    fine, past it the sealer is named; once sealed, all is well again."""
    settings.METRICS_TOKEN = TOKEN
    written = timezone.now()
    with time_machine.travel(written, tick=False):
        intake_services.add_comment(
            PurchaseRequestFactory(requester=requester), by=requester, body="waits for its seal"
        )
    with time_machine.travel(written + SEAL_BOUND - timedelta(seconds=1), tick=False):
        _all_heartbeats_fresh()
        assert deep(client)[0] == 200
    with time_machine.travel(written + SEAL_BOUND + timedelta(seconds=1), tick=False):
        _all_heartbeats_fresh()
        status, body = deep(client)
        assert (status, body["failing"]) == (503, ["sealer"])
        assert client.get("/readyz").status_code == 200
        assert seal_pending() == 1
        assert deep(client)[0] == 200


def _manage(*args, **variables):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "settings.test", **variables}
    return subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "manage.py", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_ready_names_an_unreachable_database(tmp_path):
    result = _manage("check_ready", DATABASE_URL=f"sqlite:///{tmp_path}/missing-folder/db.sqlite3")
    assert result.returncode == 1
    assert "not ready: database" in result.stderr
