"""Operations as an operator tries them (issue 20), on the production shape: gunicorn (two
workers, Prometheus multiprocess mode) with `settings.production` on a fresh PostgreSQL
database with the demo organisation, a Celery worker and beat, and a PRIVATE Redis server that
this test stops and starts (the shared Redis is never touched).

- /readyz stays 200 while Redis is stopped (web serves without it; the compose healthcheck
  command of `web` keeps passing), while /healthz/deep names the broker; once Redis, the worker
  and beat run, /healthz/deep is all "ok".
- /metrics shows the outbox backlog growing while Redis is down and draining after.
- The request id sent with a request reaches the Celery task it caused, in JSON log lines.
- `check_worker` and `check_beat` (the compose healthchecks of worker and beat) pass against
  the running processes and fail when they are gone."""

import json
import os
import subprocess
import sys
import urllib.parse

import pytest
import yaml

from tests.integration.shape import (
    BASE_DIR,
    Processes,
    _free_port,
    _production_env,
    _run,
    fresh_database,
)
from tests.operations.metrics_text import parse, value
from tests.support import complete_request_payload
from tests.support.private_redis import PrivateRedis

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

TOKEN = "live-metrics-token"
DEMO_PASSWORD = "tandem-demo"
WORKER = f"ops-live-{os.getpid()}@tandem"


class Web:
    def __init__(self, port: int):
        self.port = port
        self.tokens: dict[str, str] = {}

    def http(self, method, path, body=None, headers=None):
        import http.client

        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, response.headers, response.read()
        finally:
            connection.close()

    def answers(self):
        try:
            return self.http("GET", "/healthz")[0] == 200
        except OSError:
            return False

    def api(self, user, method, path, data=None, headers=None):
        if user not in self.tokens:
            status, _, body = self.http(
                "POST",
                "/api/auth/token/",
                body=urllib.parse.urlencode({"username": user, "password": DEMO_PASSWORD}),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            assert status == 200, body
            self.tokens[user] = json.loads(body)["token"]
        all_headers = {"Authorization": f"Bearer {self.tokens[user]}", **(headers or {})}
        payload = None
        if data is not None:
            payload = json.dumps(data)
            all_headers["Content-Type"] = "application/json"
        status, response_headers, body = self.http(method, path, payload, all_headers)
        return status, response_headers, (json.loads(body) if body else None)

    def readyz(self):
        status, _, body = self.http("GET", "/readyz")
        return status, json.loads(body)

    def deep(self):
        status, _, body = self.http(
            "GET", "/healthz/deep", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        return status, json.loads(body)

    def metrics(self):
        status, _, body = self.http("GET", "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert status == 200, body[:500]
        return parse(body.decode())


def _manage(env, *args, timeout=120):
    return _run(env, "manage.py", *args, timeout=timeout)


def _web_healthcheck(port: int) -> subprocess.CompletedProcess:
    """docker-compose.yml's healthcheck command of `web`, against this test's port."""
    compose = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())
    test = compose["services"]["web"]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    code = test[3].replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    return subprocess.run(  # noqa: S603 - the compose file's own command
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=20
    )


def _file_and_submit(web, env, title, request_id=None):
    headers = {"X-Request-ID": request_id} if request_id else {}
    status, _, created = web.api(
        "rita",
        "POST",
        "/api/requests/",
        complete_request_payload(
            lambda *args: _manage(env, *args), title, during="during an outage drill"
        ),
    )
    assert status == 201, created
    status, response_headers, submitted = web.api(
        "rita", "POST", f"/api/requests/{created['id']}/submit/", headers=headers
    )
    assert status == 200, submitted
    if request_id:
        assert response_headers["X-Request-ID"] == request_id
    return created["id"]


def _json_lines(text: str) -> list[dict]:
    """Every line of a production log is one JSON document (a line that is not fails)."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_readiness_metrics_logs_and_health_commands_through_a_redis_outage(tmp_path):
    redis_server = PrivateRedis(tmp_path / "redis").start()
    processes = None
    try:
        with fresh_database(f"tandem_opslive_{os.getpid()}") as database_url:
            env = {
                **_production_env(database_url, redis_server.url()),
                "METRICS_TOKEN": TOKEN,
                "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
                "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
                "EMAIL_FILE_PATH": str(tmp_path / "mail"),
                "MEDIA_ROOT": str(tmp_path / "media"),
                "LOG_LEVEL": "INFO",
                # Web asks the broker again a second after a failed publish, not 15 s.
                "TANDEM_BROKER_PAUSE_SECONDS": "1",
            }
            for args in (("migrate", "--no-input"), ("seed_demo",)):
                result = _manage(env, *args)
                assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
            processes = Processes(tmp_path, env)
            _drill(env, processes, redis_server)
    finally:
        if processes is not None:
            processes.stop()
        redis_server.stop()


def _drill(env, processes, redis_server):
    web = Web(_free_port())
    processes.start(
        "gunicorn", "gunicorn", "settings.wsgi", "--workers=2",
        f"--bind=127.0.0.1:{web.port}", "--graceful-timeout=5",
    )  # fmt: skip
    processes.wait_for("gunicorn", web.answers)

    # Ready, and the compose healthcheck of web passes.
    assert web.readyz() == (200, {"status": "ok"})
    assert _web_healthcheck(web.port).returncode == 0

    # Nothing runs the queue yet: seed_demo's e-mails wait there.
    samples = web.metrics()
    assert value(samples, "tandem_broker_up") == 1
    assert value(samples, "tandem_celery_queue_length", queue="celery") > 0
    assert value(samples, "tandem_requests", state="in_review") >= 1

    # The reviewers choose to hear of their group's new items at once (the default is the
    # daily digest), so that each submit below writes e-mails to the outbox.
    for reviewer in ("ivan", "paul"):
        status, _, chosen = web.api(
            reviewer, "PUT", "/api/notification-preferences/", {"group": "at_once"}
        )
        assert status == 200, chosen

    # Redis stops.
    redis_server.stop()
    # Web serves without Redis: ready, and its compose healthcheck keeps passing.
    assert web.readyz() == (200, {"status": "ok"})
    assert _web_healthcheck(web.port).returncode == 0
    assert web.http("GET", "/healthz")[0] == 200
    # Monitoring sees the broker (and the worker and beat, not started yet) failing.
    status, body = web.deep()
    assert status == 503
    assert body["failing"] == ["broker", "worker", "beat"], body

    before = value(web.metrics(), "tandem_outbox_notifications", status="pending")
    backlog = [before]
    for n in range(2):
        _file_and_submit(web, env, f"Filed without Redis {n}")
        samples = web.metrics()
        assert value(samples, "tandem_broker_up") == 0
        backlog.append(value(samples, "tandem_outbox_notifications", status="pending"))
    assert backlog[0] < backlog[1] < backlog[2], f"the backlog did not grow: {backlog}"
    assert value(samples, "tandem_outbox_oldest_pending_age_seconds") > 0

    # Redis is back.
    redis_server.start()
    assert web.readyz() == (200, {"status": "ok"})
    assert _web_healthcheck(web.port).returncode == 0

    # No worker yet: check_worker fails; beat has never beaten: check_beat fails.
    assert _manage(env, "check_worker", "--node", WORKER, "--timeout", "2").returncode != 0
    assert _manage(env, "check_beat").returncode != 0

    processes.start(
        "worker", "celery", "-A", "settings", "--quiet", "worker", "--loglevel=INFO",
        "--concurrency=1", f"--hostname={WORKER}", "--without-mingle", "--without-gossip",
    )  # fmt: skip
    processes.wait_for("the worker", lambda: "ready." in processes.log("worker"), timeout=60)

    # A request with its id: the tasks it causes log under the same id (web asks the broker
    # again a second after its last failed publish: TANDEM_BROKER_PAUSE_SECONDS). Beat starts
    # once they ran: its periodic delivery sweep would otherwise send the same e-mails first,
    # under its own id (both deliver them; only the request's own task carries the request's id).
    _file_and_submit(web, env, "Filed with Redis back", request_id="ops-live-req-1")
    processes.wait_for(
        "the request's e-mails, sent by its own task",
        lambda: any(
            line.get("request_id") == "ops-live-req-1" and " sent (" in line["message"]
            for line in _json_lines(processes.log("worker"))
        ),
        timeout=60,
    )
    processes.start("beat", "celery", "-A", "settings", "--quiet", "beat", "--loglevel=INFO")

    # Beat runs the periodic delivery at its start: the backlog drains to nothing.
    def drained():
        samples = web.metrics()
        waiting = sum(
            value(samples, "tandem_outbox_notifications", status=status)
            for status in ("pending", "sending", "failed")
        )
        return waiting == 0 and samples

    samples = processes.wait_for("the outbox to drain", drained, timeout=90)
    assert value(samples, "tandem_outbox_notifications", status="gave_up") == 0
    assert value(samples, "tandem_outbox_oldest_pending_age_seconds") == 0
    assert value(samples, "tandem_broker_up") == 1
    # Both gunicorn workers' request counters add up in one scrape (multiprocess mode).
    assert any(name.startswith("django_http_requests_total_by_method") for name, _ in samples)

    # Every part works: the deep check is all "ok" (beat beats every 15 s).
    processes.wait_for("the deep check", lambda: web.deep()[0] == 200, timeout=60)

    # The health commands of compose's worker and beat pass against the live processes.
    ping = _manage(env, "check_worker", "--node", WORKER, "--timeout", "5")
    assert ping.returncode == 0, ping.stderr + processes.logs()
    processes.wait_for(
        "beat's heartbeat", lambda: _manage(env, "check_beat").returncode == 0, timeout=60
    )

    # Logs: one JSON document per line; the request's id in web's and in the worker's lines.
    web_lines = _json_lines(processes.log("gunicorn"))
    request_lines = [line for line in web_lines if line.get("request_id") == "ops-live-req-1"]
    assert any(
        line["logger"] == "tandem.request" and line["status"] == 200 and line["user_id"]
        for line in request_lines
    ), request_lines
    worker_lines = _json_lines(processes.log("worker"))
    _json_lines(processes.log("beat"))
    sent_for_request = [
        line
        for line in worker_lines
        if line.get("request_id") == "ops-live-req-1" and " sent (" in line["message"]
    ]
    assert sent_for_request, "no worker log line carries the request's id"
    assert sent_for_request[0]["task_name"] == "notifications.tasks.deliver_chunk"
    # No e-mail address in any log line (the demo users have addresses).
    logs = processes.log("gunicorn") + processes.log("worker") + processes.log("beat")
    assert "@example" not in logs.replace(WORKER, "")

    codes = processes.stop()
    assert codes == {"gunicorn": 0, "worker": 0, "beat": 0}, processes.logs()
    assert _manage(env, "check_worker", "--node", WORKER, "--timeout", "2").returncode != 0
