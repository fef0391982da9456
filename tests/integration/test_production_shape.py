"""The production shape of SPEC §10 as real processes: gunicorn (2 workers) serving
`settings.production` against a freshly migrated PostgreSQL database, a Celery worker and
Celery beat on Redis. The same commands docker-compose.yml runs, without containers.

Needs PostgreSQL and Redis: runs in the DATABASE_URL pass of .ci/run and fails (never skips)
when either cannot be reached."""

import re
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest
import redis

from tests.integration.shape import (
    BASE_DIR,
    BROKER_URL,
    WORKER_NAME,
    Processes,
    _answers,
    _free_port,
    _get,
    _production_env,
    _require,
    _run,
    fresh_database,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def test_production_shape_serves_pages_api_and_runs_worker_and_beat(tmp_path):
    _require(
        "Redis",
        BROKER_URL,
        lambda: redis.Redis.from_url(BROKER_URL, socket_connect_timeout=3).ping(),
    )
    with fresh_database() as database_url:
        env = {**_production_env(database_url, BROKER_URL), "STATIC_ROOT": str(tmp_path / "static")}
        _check_production_shape(env, tmp_path)


def _check_production_shape(env: dict[str, str], tmp_path: Path) -> None:
    # Static files are collected into the test's own STATIC_ROOT, as the Dockerfile does at build.
    collectstatic = subprocess.Popen(  # noqa: S603 - fixed arguments
        [sys.executable, "manage.py", "collectstatic", "--no-input", "--verbosity", "0"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        migrate = _run(env, "manage.py", "migrate", "--no-input")
        collected, _ = collectstatic.communicate(timeout=180)
    finally:
        if collectstatic.poll() is None:
            collectstatic.kill()
            collectstatic.wait()
    assert migrate.returncode == 0, f"migrate failed:\n{migrate.stdout}\n{migrate.stderr}"
    assert collectstatic.returncode == 0, f"collectstatic failed:\n{collected}"

    port = _free_port()
    processes = Processes(tmp_path, env)
    try:
        processes.start(
            "gunicorn",
            "gunicorn",
            "settings.wsgi",
            "--workers=2",
            f"--bind=127.0.0.1:{port}",
            "--access-logfile=-",
            "--graceful-timeout=10",
        )
        processes.start(
            "worker",
            "celery",
            "-A",
            "settings",
            "worker",
            "--loglevel=INFO",
            "--concurrency=1",
            f"--hostname={WORKER_NAME}",
            "--without-mingle",
            "--without-gossip",
        )
        processes.start("beat", "celery", "-A", "settings", "beat", "--loglevel=INFO")

        # The sign-in page, through gunicorn, with Bootstrap served by whitenoise under the
        # hashed name collectstatic gave it (CompressedManifestStaticFilesStorage).
        status, headers, body = processes.wait_for(
            "gunicorn to answer /accounts/login/", lambda: _answers(port, "/accounts/login/")
        )
        page = body.decode()
        assert status == 200, page[:2000]
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        stylesheet = re.search(
            r'href="(/static/vendor/bootstrap/css/bootstrap\.min\.[0-9a-f]{12}\.css)"', page
        )
        assert stylesheet, f"no hashed Bootstrap stylesheet on the sign-in page:\n{page[:2000]}"
        status, headers, css = _get(port, stylesheet.group(1))
        assert status == 200
        assert headers["Content-Type"].startswith("text/css")
        assert "immutable" in headers["Cache-Control"]  # whitenoise, for a hashed file
        assert b"Bootstrap" in css[:500]
        assert processes.log("gunicorn").count("Booting worker") >= 2

        # The API without credentials: 401 and how to authenticate, not a redirect.
        status, headers, _ = _get(port, "/api/requests/", {"Accept": "application/json"})
        assert status == 401
        assert headers["WWW-Authenticate"].startswith("Bearer")

        # The worker answers a ping through Redis.
        processes.wait_for("the worker to be ready", lambda: "ready." in processes.log("worker"))
        ping = _run(
            env, "-m", "celery", "-A", "settings", "inspect", "ping",
            f"--destination={WORKER_NAME}", "--timeout=5",
        )  # fmt: skip
        assert ping.returncode == 0, f"{ping.stdout}\n{ping.stderr}\n{processes.logs()}"
        assert "pong" in ping.stdout
        assert "Connected to redis://" in processes.log("worker")

        # Beat runs the database scheduler: it starts, and writes its default entry to the
        # production database.
        processes.wait_for("beat to start", lambda: "beat: Starting..." in processes.log("beat"))
        assert "scheduler -> operations.scheduler.HeartbeatScheduler" in (processes.log("beat"))

        def beat_wrote_its_schedule():
            connection = psycopg2.connect(env["DATABASE_URL"], connect_timeout=3)
            try:
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT count(*) FROM django_celery_beat_periodictask"
                        " WHERE name = 'celery.backend_cleanup'"
                    )
                    return cursor.fetchone()[0] == 1
            finally:
                connection.close()

        processes.wait_for("beat to write its schedule", beat_wrote_its_schedule)

        # Every process shuts down gracefully on SIGTERM, as `docker compose stop` asks.
        codes = processes.stop()
        assert codes == {"gunicorn": 0, "worker": 0, "beat": 0}, processes.logs()
    finally:
        processes.stop()
