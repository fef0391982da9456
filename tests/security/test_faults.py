"""Reliability under faults of the real local services (SPEC §4, §9), against the production
shape: gunicorn serving `settings.production` on a freshly migrated PostgreSQL database with the
demo organisation, Celery on Redis.

- Redis stopped: filing, deciding and the pages keep working; the e-mails wait in the outbox
  (status pending) and are sent once Redis is back and `deliver_pending` runs on a worker.
- PostgreSQL restarted under the running application: the next request works (the dropped
  persistent connection is noticed by CONN_HEALTH_CHECKS and replaced).
- A worker killed in the middle of a task: tests/integration/test_reminders_live.py.

Each test stops a shared local service and starts it again in a `finally` block, whatever
happens; anything else connected to that service meanwhile (another test run) sees the outage
too."""

import contextlib
import http.client
import json
import os
import re
import subprocess
import time
import urllib.parse
import uuid
from pathlib import Path

import psycopg2
import pytest
import redis
from django.db import connections

from tests.integration.shape import (
    Processes,
    _admin_connection,
    _free_port,
    _production_env,
    _require,
    _run,
    _server_url,
)
from tests.support import complete_request_payload

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

REDIS = ("127.0.0.1", 6379)
BROKER_URL = "redis://127.0.0.1:6379/12"
DEMO_PASSWORD = "tandem-demo"
WAIT = 30  # seconds, for a service to go down or come back


def _redis_up() -> bool:
    try:
        return redis.Redis(*REDIS, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


def _pg_up() -> bool:
    return (
        subprocess.run(  # noqa: S603 - fixed arguments
            ["pg_isready", "-h", "127.0.0.1", "-p", "5432", "-q"], check=False
        ).returncode
        == 0
    )


def _until(what: str, condition, timeout: float = WAIT):
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.2)
    return result


def _as_root(*command: str) -> list[str]:
    return list(command) if os.geteuid() == 0 else ["sudo", "-n", *command]


def _start_redis() -> None:
    subprocess.run(  # noqa: S603 - fixed arguments
        [
            "redis-server",
            "--daemonize",
            "yes",
            "--bind",
            "127.0.0.1",
            "--port",
            "6379",
            "--save",
            "",
            "--appendonly",
            "no",
        ],  # fmt: skip
        check=True,
        capture_output=True,
    )
    _until("Redis to answer", _redis_up)


def _pg_cluster() -> str:
    versions = os.listdir("/etc/postgresql")
    assert len(versions) == 1, f"one PostgreSQL version in /etc/postgresql, found {versions}"
    return versions[0]


def _pg_ctl(action: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - fixed arguments
        _as_root("pg_ctlcluster", "--skip-systemctl-redirect", _pg_cluster(), "main", action),
        capture_output=True,
        text=True,
        timeout=60,
    )


# The application


def _drop(name: str) -> None:
    connection = _admin_connection()  # a new one: a restart may have closed the earlier
    try:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        connection.close()


@contextlib.contextmanager
def _fresh_database():
    _require("PostgreSQL", _server_url(), lambda: _admin_connection().close())
    name = f"tandem_faults_{os.getpid()}"
    _drop(name)
    connection = _admin_connection()
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()
    try:
        yield urllib.parse.urlsplit(_server_url())._replace(path=f"/{name}").geturl()
    finally:
        _until("PostgreSQL to answer", _pg_up, timeout=60)
        _drop(name)


class App:
    """The running application: HTTP to gunicorn, SQL to its database."""

    def __init__(self, port: int, env: dict, processes: Processes, mail_dir: Path):
        self.port, self.env, self.processes, self.mail_dir = port, env, processes, mail_dir
        self.tokens: dict[str, str] = {}

    def http(self, method: str, path: str, *, body=None, headers=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, response.headers, response.read()
        finally:
            connection.close()

    def api(self, user: str, method: str, path: str, data=None):
        if user not in self.tokens:
            status, _, body = self.http(
                "POST",
                "/api/auth/token/",
                body=urllib.parse.urlencode({"username": user, "password": DEMO_PASSWORD}),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            assert status == 200, body
            self.tokens[user] = json.loads(body)["token"]
        headers = {"Authorization": f"Bearer {self.tokens[user]}", "Accept": "application/json"}
        payload = None
        if data is not None:
            payload = json.dumps(data)
            headers["Content-Type"] = "application/json"
        status, _, body = self.http(method, path, body=payload, headers=headers)
        return status, (json.loads(body) if body else None)

    def page(self, user: str, path: str) -> tuple[int, str]:
        """GET `path` signed in through the sign-in form as `user`."""
        status, headers, body = self.http("GET", "/accounts/login/")
        assert status == 200, body[:500]
        cookies = _cookies(headers)
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
        status, headers, body = self.http(
            "POST",
            "/accounts/login/",
            body=urllib.parse.urlencode(
                {"username": user, "password": DEMO_PASSWORD, "csrfmiddlewaretoken": token}
            ),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
            },
        )
        assert status == 302, body[:500]
        cookies.update(_cookies(headers))
        status, _, body = self.http(
            "GET", path, headers={"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
        )
        return status, body.decode(errors="replace")

    def sql(self, query: str, params=()):
        connection = psycopg2.connect(self.env["DATABASE_URL"], connect_timeout=3)
        try:
            with connection.cursor() as cursor:
                cursor.execute(query, params)
                return cursor.fetchall()
        finally:
            connection.close()

    def manage(self, *args: str) -> subprocess.CompletedProcess:
        result = _run(self.env, "manage.py", *args, timeout=120)
        assert result.returncode == 0, f"manage.py {args}:\n{result.stdout}\n{result.stderr}"
        return result


def _cookies(headers) -> dict[str, str]:
    cookies = {}
    for header in headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        cookies[name] = rest.split(";", 1)[0]
    return cookies


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """gunicorn (one worker, so that the next request after a fault reuses the connection the
    fault broke) on a fresh database with the demo organisation; e-mail into files."""
    _require("Redis", BROKER_URL, lambda: redis.Redis(*REDIS, socket_connect_timeout=3).ping())
    tmp = tmp_path_factory.mktemp("faults")
    with _fresh_database() as database_url:
        env = {
            **_production_env(database_url, BROKER_URL),
            "STATIC_ROOT": str(tmp / "static"),
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(tmp / "mail"),
            "MEDIA_ROOT": str(tmp / "media"),
        }
        processes = Processes(tmp, env)
        application = App(_free_port(), env, processes, tmp / "mail")
        application.manage("migrate", "--no-input")
        application.manage("seed_demo")
        application.manage("collectstatic", "--no-input", "--verbosity", "0")
        try:
            processes.start(
                "gunicorn",
                "gunicorn",
                "settings.wsgi",
                "--workers=1",
                f"--bind=127.0.0.1:{application.port}",
                "--graceful-timeout=5",
            )
            processes.wait_for("gunicorn", lambda: _answers(application))
            yield application
        finally:
            processes.stop()


def _answers(app: App):
    try:
        return app.http("GET", "/accounts/login/")[0] == 200
    except OSError:
        return False


def _emails(app: App, title: str) -> dict[str, int]:
    """E-mail notifications about the request titled `title`, counted by status."""
    return dict(
        app.sql(
            "SELECT status, count(*) FROM notifications_notification"
            " WHERE channel = 'email' AND body LIKE %s GROUP BY status",
            (f"%{title}%",),
        )
    )


def test_with_redis_stopped_filing_deciding_and_pages_work_and_e_mails_wait_in_the_outbox(app):
    title = f"Filed without Redis {uuid.uuid4().hex[:8]}"
    redis.Redis(*REDIS, db=12).flushdb()
    payload = complete_request_payload(app.manage, title, during="while a service is down")
    worker = None
    stopped = subprocess.run(  # noqa: S603 - fixed arguments
        ["redis-cli", "-h", REDIS[0], "-p", str(REDIS[1]), "shutdown", "nosave"],
        capture_output=True,
        text=True,
    )
    try:
        _until("Redis to stop", lambda: not _redis_up())

        # File and submit, as the requester.
        started = time.monotonic()
        status, created = app.api("rita", "POST", "/api/requests/", payload)
        assert status == 201, created
        status, submitted = app.api("rita", "POST", f"/api/requests/{created['id']}/submit/")
        assert status == 200, submitted
        assert submitted["state"] == "in_review"
        # Decide, as the IT reviewer.
        status, steps = app.api("rita", "GET", f"/api/requests/{created['id']}/steps/")
        it_step = next(s for s in steps if s["side"] == "it" and s["state"] == "open")
        status, decided = app.api(
            "ivan", "POST", f"/api/steps/{it_step['id']}/approve/", {"comment": "No Redis needed."}
        )
        assert status == 200, decided
        assert decided["state"] == "approved"
        assert time.monotonic() - started < 20, "nobody waits long on the missing broker"
        # The pages.
        for user, path in [
            ("rita", "/requests/"),
            ("rita", f"/requests/{created['id']}/"),
            ("ivan", "/approvals/"),
            ("ivan", "/notifications/"),
        ]:
            status, page = app.page(user, path)
            assert status == 200, f"{user} {path}: {status}\n{page[:1000]}"
        status, page = app.page("rita", f"/requests/{created['id']}/")
        assert title in page

        # The e-mails wait in the outbox.
        waiting = _emails(app, title)
        assert waiting.get("pending", 0) >= 1, waiting
        assert set(waiting) == {"pending"}, waiting
    finally:
        if not _redis_up():
            _start_redis()
    assert stopped.returncode == 0, stopped.stderr

    # Redis is back: the periodic delivery on a worker sends what waited.
    try:
        worker = app.processes.start(
            "worker", "celery", "-A", "settings", "worker", "--loglevel=INFO", "--concurrency=1",
            f"--hostname=faults-{os.getpid()}@tandem", "--without-mingle", "--without-gossip",
        )  # fmt: skip
        app.processes.wait_for(
            "the worker", lambda: "ready." in app.processes.log("worker"), timeout=90
        )
        sent = _run(app.env, "-m", "celery", "-A", "settings", "call",
                    "notifications.tasks.deliver_pending")  # fmt: skip
        assert sent.returncode == 0, sent.stderr
        app.processes.wait_for(
            "the outbox to be delivered", lambda: set(_emails(app, title)) == {"sent"}, timeout=60
        )
        mails = "".join(p.read_text(errors="replace") for p in app.mail_dir.glob("*.log"))
        assert title in mails
    finally:
        if worker is not None and worker.poll() is None:
            worker.terminate()
            worker.wait(timeout=30)


def test_a_postgresql_restart_under_the_running_application_is_survived(app):
    status, _ = app.api("cora", "GET", "/api/requests/")
    assert status == 200  # the worker now holds a persistent connection (CONN_MAX_AGE)
    try:
        restarted = _pg_ctl("restart")
        assert restarted.returncode == 0, restarted.stderr
        _until("PostgreSQL to answer", _pg_up, timeout=60)
        # The very next request, on the connection the restart broke.
        status, listed = app.api("cora", "GET", "/api/requests/")
        assert status == 200, listed
        status, page = app.page("cora", "/approvals/")
        assert status == 200, page[:1000]
        request_id = listed["results"][0]["id"]
        status, comment = app.api(
            "cora", "POST", f"/api/requests/{request_id}/comments/", {"body": "After restart."}
        )
        assert status == 201, comment
    finally:
        if not _pg_up():
            _pg_ctl("start")
            _until("PostgreSQL to answer", _pg_up, timeout=60)
        # This test process's own connections died with the restart too.
        connections.close_all()
    assert "Internal Server Error" not in app.processes.log("gunicorn")
