"""Reliability under faults of the real services (SPEC §4, §9), against the production shape:
gunicorn serving `settings.production` on a freshly migrated PostgreSQL database with the demo
organisation, Celery and the cache on Redis.

- Redis stopped: filing, deciding and the pages keep working; the e-mails wait in the outbox
  (status pending) and are sent once Redis is back and `deliver_pending` runs on a worker.
- Redis frozen (SIGSTOP, as in a network partition): a submit, a decision and pages each answer
  within FROZEN_DEADLINE with their outcome; the outbox delivers once it thaws.
- PostgreSQL restarted under the running application: the next request works (the dropped
  persistent connection is noticed by CONN_HEALTH_CHECKS and replaced).
- PostgreSQL stopped: pages and the API answer 503 "briefly unavailable" with Retry-After;
  /readyz names the database; everything works again once it is back.
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
FROZEN_DEADLINE = 3  # seconds: any answer with Redis frozen
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
        status, _, body = self.get_signed_in(self.sign_in(user), path)
        return status, body.decode(errors="replace")

    def sign_in(self, user: str) -> str:
        """The Cookie header of a session signed in through the sign-in form as `user`."""
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
        return "; ".join(f"{k}={v}" for k, v in cookies.items())

    def get_signed_in(self, cookie: str, path: str):
        return self.http("GET", path, headers={"Cookie": cookie})

    def sql(self, query: str, params=()):
        connection = psycopg2.connect(self.env["DATABASE_URL"], connect_timeout=3)
        try:
            with connection.cursor() as cursor:
                cursor.execute(query, params)
                return cursor.fetchall()
        finally:
            connection.close()

    def manage(self, *args: str) -> subprocess.CompletedProcess:
        # collectstatic compresses every file with brotli too (installed with locust, so
        # whitenoise uses it): about 150 CPU-seconds, more on a busy machine.
        result = _run(self.env, "manage.py", *args, timeout=300)
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
        # The reviewers choose to hear of their group's new items at once (the default is the
        # daily digest): the e-mails these tests follow are written as each step opens.
        for reviewer in ("ivan", "paul"):
            status, chosen = application.api(
                reviewer, "PUT", "/api/notification-preferences/", {"group": "at_once"}
            )
            assert status == 200, chosen
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
    _deliver_the_outbox_with_a_worker(app, title)


def _deliver_the_outbox_with_a_worker(app: App, title: str) -> None:
    """A worker (production settings, so the broker's short timeouts) runs the periodic
    delivery: every e-mail about `title` is sent, once."""
    worker = None
    try:
        worker = app.processes.start(
            "worker", "celery", "-A", "settings", "worker", "--loglevel=INFO", "--concurrency=1",
            f"--hostname=faults-{os.getpid()}-{uuid.uuid4().hex[:6]}@tandem",
            "--without-mingle", "--without-gossip",
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
        app.processes.running.pop("worker", None)


def test_with_redis_frozen_filing_deciding_and_pages_answer_within_seconds_and_the_outbox_delivers(
    app, redis_server
):
    """A frozen Redis (SIGSTOP: a network partition looks like this) under gunicorn: each
    publish and cache call gives up within a second (settings.base), the actions succeed, and
    once Redis thaws a worker delivers what waited."""
    title = f"Filed with Redis frozen {uuid.uuid4().hex[:8]}"
    payload = complete_request_payload(app.manage, title, during="while Redis is frozen")
    # Signed in and tokens made while everything answers.
    app.api("rita", "GET", "/api/requests/")
    app.api("ivan", "GET", "/api/requests/")
    ivan = app.sign_in("ivan")

    def timed(call):
        started = time.monotonic()
        result = call()
        return result, time.monotonic() - started

    with redis_server.frozen():
        (status, created), took = timed(lambda: app.api("rita", "POST", "/api/requests/", payload))
        assert status == 201, created
        (status, submitted), submit_took = timed(
            lambda: app.api("rita", "POST", f"/api/requests/{created['id']}/submit/")
        )
        assert status == 200, submitted
        assert submitted["state"] == "in_review"
        assert submit_took < FROZEN_DEADLINE, f"the submit took {submit_took:.1f}s"
        status, steps = app.api("rita", "GET", f"/api/requests/{created['id']}/steps/")
        it_step = next(s for s in steps if s["side"] == "it" and s["state"] == "open")
        (status, decided), took = timed(
            lambda: app.api(
                "ivan", "POST", f"/api/steps/{it_step['id']}/reject/", {"comment": "Not now."}
            )
        )
        assert status == 200, decided
        assert decided["state"] == "rejected"
        assert took < FROZEN_DEADLINE, f"the decision took {took:.1f}s"
        for path in ("/approvals/", f"/requests/{created['id']}/", "/notifications/"):
            (status, _, body), took = timed(lambda path=path: app.get_signed_in(ivan, path))
            assert status == 200, f"{path}: {status}\n{body[:1000]}"
            assert took < FROZEN_DEADLINE, f"{path} took {took:.1f}s"
        waiting = _emails(app, title)
        assert set(waiting) == {"pending"} and waiting["pending"] >= 2, waiting

    _deliver_the_outbox_with_a_worker(app, title)
    assert "Internal Server Error" not in app.processes.log("gunicorn")


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


def test_with_postgresql_stopped_pages_and_the_api_say_briefly_unavailable_and_recover(
    app, postgres_server
):
    """PostgreSQL stopped under gunicorn: 503 "briefly unavailable" with Retry-After (a page,
    and JSON for the API), /readyz names the database, /healthz still answers; once it is
    back, the same session and token work again without a restart."""
    cora = app.sign_in("cora")
    app.api("cora", "GET", "/api/requests/")  # the token, made while the database answers
    postgres_server.stop()
    try:
        for path in ("/requests/", "/approvals/"):
            status, headers, body = app.get_signed_in(cora, path)
            assert status == 503, f"{path}: {status}\n{body[:1000]}"
            assert headers["Retry-After"].isdigit()
            page = body.decode()
            assert "Tandem is briefly unavailable" in page
            assert "nothing you sent was lost" in page
        status, headers, body = app.http(
            "GET",
            "/api/requests/",
            headers={"Authorization": f"Bearer {app.tokens['cora']}", "Accept": "application/json"},
        )
        assert status == 503, body[:1000]
        assert headers["Retry-After"].isdigit()
        assert json.loads(body)["detail"].startswith("Tandem is briefly unavailable")
        status, _, body = app.http("GET", "/readyz")
        assert (status, json.loads(body)) == (
            503,
            {"status": "unavailable", "failing": ["database"]},
        )
        assert app.http("GET", "/healthz")[0] == 200
    finally:
        if not postgres_server.up():
            postgres_server.start()
    status, _, body = app.get_signed_in(cora, "/requests/")
    assert status == 200, body[:1000]
    assert app.api("cora", "GET", "/api/requests/")[0] == 200
    assert app.http("GET", "/readyz")[0] == 200
