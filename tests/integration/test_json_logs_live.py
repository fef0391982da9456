"""Every line JSON (issue 30): web, the Celery worker and beat, started with the commands of
docker-compose.yml under `settings.production`, write nothing but JSON documents, one a line,
on standard output and on standard error, from start-up (web's migrations) to a graceful stop
(SIGTERM: gunicorn's "Shutting down", the worker's warm shutdown), including the worker's
lines for the tasks beat sent it. A line a log collector cannot parse is a line nobody finds.

Runs against a fresh PostgreSQL database and a PRIVATE Redis (broker and cache), never the
shared one."""

import json
import os
import signal
import subprocess
import sys

import pytest
import yaml

from tests.integration.shape import (
    BASE_DIR,
    Processes,
    _free_port,
    _get,
    _production_env,
    fresh_database,
)
from tests.support.private_redis import PrivateRedis

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

TOKEN = "json-logs-token"
STREAMS = ("stdout", "stderr")


class ComposeProcesses(Processes):
    """docker-compose.yml's commands as processes, each stream to its own file."""

    def __init__(self, log_dir, env):
        super().__init__(log_dir, env)
        self.services = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())["services"]

    def start_service(self, name: str) -> subprocess.Popen:
        files = {stream: (self.log_dir / f"{name}.{stream}").open("wb") for stream in STREAMS}
        process = subprocess.Popen(  # noqa: S603 - the compose file's own command
            self.services[name]["command"],
            cwd=BASE_DIR,
            env=self.env,
            stdout=files["stdout"],
            stderr=files["stderr"],
            start_new_session=True,
        )
        for file in files.values():
            file.close()
        self.running[name] = process
        return process

    def output(self, name: str, stream: str) -> str:
        return (self.log_dir / f"{name}.{stream}").read_text(errors="replace")

    def log(self, name: str) -> str:
        return "".join(self.output(name, stream) for stream in STREAMS)


def _not_json(text: str) -> list[str]:
    """The lines of `text` that are not one JSON document with a level and a message."""
    bad = []
    for line in text.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            bad.append(line)
            continue
        if not (isinstance(event, dict) and event.get("level") and "message" in event):
            bad.append(line)
    return bad


def _messages(text: str) -> list[str]:
    return [json.loads(line)["message"] for line in text.splitlines()]


def test_web_worker_and_beat_write_only_json_lines_from_start_to_graceful_stop(tmp_path):
    redis_server = PrivateRedis(tmp_path / "redis").start()
    processes = None
    try:
        with fresh_database(f"tandem_jsonlogs_{os.getpid()}") as database_url:
            port = _free_port()
            env = {
                **_production_env(database_url, redis_server.url()),
                "CACHE_URL": redis_server.url(1),
                "METRICS_TOKEN": TOKEN,
                "LOG_LEVEL": "INFO",
                # The image's gunicorn options (Dockerfile), on this test's port.
                "GUNICORN_CMD_ARGS": f"--bind=127.0.0.1:{port} --graceful-timeout=5",
                "WEB_CONCURRENCY": "2",
                "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
                "MEDIA_ROOT": str(tmp_path / "media"),
                # The compose commands name `python`, `gunicorn` and `celery`: this interpreter's.
                "PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ['PATH']}",
            }
            processes = ComposeProcesses(tmp_path, env)
            _run_and_stop(processes, port)
            processes = None
    finally:
        if processes is not None:
            processes.stop()
        redis_server.stop()


def _run_and_stop(processes: ComposeProcesses, port: int) -> None:
    # As compose orders them: web migrates and serves; worker and beat start once it is ready.
    processes.start_service("web")
    processes.wait_for(
        "web to be ready",
        lambda: _answers_ok(port, "/readyz"),
        timeout=150,  # web's command migrates a fresh database first
    )
    processes.start_service("worker")
    processes.start_service("beat")

    # Requests: one line each (tandem.request), and what the operations endpoints log.
    assert _get(port, "/healthz")[0] == 200
    assert _get(port, "/metrics", {"Authorization": f"Bearer {TOKEN}"})[0] == 200
    assert _get(port, "/api/requests/", {"Accept": "application/json"})[0] == 401

    # Beat sends its due tasks at start; the worker runs them.
    processes.wait_for(
        "the worker to run a task beat sent",
        lambda: " succeeded in " in processes.output("worker", "stdout"),
        timeout=60,
    )
    assert _get(port, "/healthz/deep", {"Authorization": f"Bearer {TOKEN}"})[0] in (200, 503)

    # A graceful stop of all three, as `docker compose stop` does.
    for process in processes.running.values():
        process.send_signal(signal.SIGTERM)
    codes = {name: process.wait(timeout=30) for name, process in processes.running.items()}
    assert codes == {"web": 0, "worker": 0, "beat": 0}, processes.logs()

    problems = {
        f"{name} {stream}": bad
        for name in processes.running
        for stream in STREAMS
        if (bad := _not_json(processes.output(name, stream)))
    }
    assert not problems, "lines that are not JSON:\n" + json.dumps(problems, indent=1)[:6000]

    # What each wrote is there, as JSON: start-up, the work, the stop.
    web = _messages(processes.output("web", "stdout"))
    assert any(message.startswith("Listening at: http://127.0.0.1:") for message in web), web
    assert "Shutting down: Master" in web, web
    requests = [
        json.loads(line)
        for line in processes.output("web", "stdout").splitlines()
        if json.loads(line)["logger"] == "tandem.request"
    ]
    # (Passing health checks and scrapes are not logged at INFO.)
    assert ("/api/requests/", 401) in {(line["path"], line["status"]) for line in requests}
    worker = _messages(processes.output("worker", "stdout"))
    assert any(message.endswith(" ready.") for message in worker), worker
    assert any(" succeeded in " in message for message in worker), worker
    assert any("Warm shutdown" in message for message in worker), worker
    beat = _messages(processes.output("beat", "stdout"))
    assert "beat: Starting..." in beat, beat


def _answers_ok(port: int, path: str) -> bool:
    try:
        return _get(port, path)[0] == 200
    except OSError:
        return False
