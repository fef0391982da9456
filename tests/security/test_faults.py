"""Reliability under faults of the real services (SPEC §4, §9), against the production shape:
gunicorn serving `settings.production` on a freshly migrated PostgreSQL database with the demo
organisation, Celery and the cache on Redis.

- Redis stopped: filing, deciding and the pages keep working; the e-mails wait in the outbox
  (status pending) and are sent once Redis is back and `deliver_pending` runs on a worker.
- PostgreSQL restarted under the running application: the next request works (the dropped
  persistent connection is noticed by CONN_HEALTH_CHECKS and replaced).
- A worker killed in the middle of a task: tests/integration/test_reminders_live.py.

Every fault is done to services of this module alone: a private Redis (tests/support/
private_redis.py) and a throwaway PostgreSQL cluster (tests/support/private_postgres.py), each on
a free port. The machine's shared PostgreSQL (5432) and Redis (6379) are never touched, so this
runs beside anything else."""

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

from tests.integration.shape import Processes, _free_port, _production_env, _run
from tests.support import complete_request_payload
from tests.support.private_postgres import PrivatePostgres
from tests.support.private_redis import PrivateRedis

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

DEMO_PASSWORD = "tandem-demo"
BROKER_DB, CACHE_DB = 0, 1


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
def redis_server(tmp_path_factory):
    server = PrivateRedis(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def postgres_server():
    server = PrivatePostgres().start()
    yield server
    server.destroy()


@pytest.fixture(scope="module")
def app(tmp_path_factory, redis_server, postgres_server):
    """gunicorn (one worker, so that the next request after a fault reuses the connection the
    fault broke) on a fresh database with the demo organisation; e-mail into files."""
    tmp = tmp_path_factory.mktemp("faults")
    env = {
        **_production_env(
            postgres_server.create_database("tandem_faults"), redis_server.url(BROKER_DB)
        ),
        "CACHE_URL": redis_server.url(CACHE_DB),
        "STATIC_ROOT": str(tmp / "static"),
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(tmp / "mail"),
        "MEDIA_ROOT": str(tmp / "media"),
    }
    shared = {"127.0.0.1:5432", "127.0.0.1:6379"}
    assert (
        not {
            urllib.parse.urlsplit(env[name]).netloc.rpartition("@")[2]
            for name in ("DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL")
        }
        & shared
    ), "a fault test never points at the machine's shared services"
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


def test_with_redis_stopped_filing_deciding_and_pages_work_and_e_mails_wait_in_the_outbox(
    app, redis_server
):
    title = f"Filed without Redis {uuid.uuid4().hex[:8]}"
    payload = complete_request_payload(app.manage, title, during="while a service is down")
    worker = None
    redis_server.stop()
    try:
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
        if not redis_server.up():
            redis_server.start()

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


def test_a_postgresql_restart_under_the_running_application_is_survived(app, postgres_server):
    status, _ = app.api("cora", "GET", "/api/requests/")
    assert status == 200  # the worker now holds a persistent connection (CONN_MAX_AGE)
    try:
        postgres_server.restart()
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
        if not postgres_server.up():
            postgres_server.start()
    assert "Internal Server Error" not in app.processes.log("gunicorn")
