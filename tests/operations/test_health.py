"""/healthz and /readyz (issue 20): no sign-in, "ok" or the name of the failing part only."""

import os
import subprocess
import sys

import pytest
from django.db import connection

from operations import health

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
        cursor.execute(
            "DELETE FROM django_migrations WHERE app = 'operations' AND name = '0001_initial'"
        )
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "failing": ["migrations"]}


@pytest.mark.redis
def test_readyz_names_the_broker_while_redis_is_down_and_recovers(client, broker_at):
    assert client.get("/readyz").status_code == 200

    broker_at.stop()
    response = client.get("/readyz")
    assert response.status_code == 503
    # Only the failing part: no host, port, address or error text.
    assert response.json() == {"status": "unavailable", "failing": ["broker"]}
    assert str(broker_at.port) not in response.content.decode()

    broker_at.start()
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


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
