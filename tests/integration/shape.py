"""Tandem's production shape as real processes (gunicorn, Celery worker and beat) against the
local PostgreSQL and Redis, for the integration tests."""

import contextlib
import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import psycopg2
import pytest
import redis

BASE_DIR = Path(__file__).resolve().parents[2]
BROKER_URL = "redis://127.0.0.1:6379/14"
# Per process, so that two engineers running the PostgreSQL pass at once do not collide.
DATABASE_NAME = f"tandem_prodshape_{os.getpid()}"
WORKER_NAME = f"prodshape-{os.getpid()}@tandem"
# Each wait is bounded; the whole test takes 8 to 17 seconds, mostly collectstatic
# compressing every file.
STARTUP_TIMEOUT = 20
# Environment variables of the test run that must not leak into the production processes.
NOT_INHERITED = {
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "DEBUG",
    "SECURE_HSTS_SECONDS",
    "CELERY_BROKER_URL",
    "SECRET_KEY",
    "DATABASE_URL",
}


def _server_url() -> str:
    """The PostgreSQL server of this pass (its DATABASE_URL)."""
    return os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tandem")


def _database_url(name: str) -> str:
    return urllib.parse.urlsplit(_server_url())._replace(path=f"/{name}").geturl()


def _admin_connection():
    parts = urllib.parse.urlsplit(_server_url())
    connection = psycopg2.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=urllib.parse.unquote(parts.username or "postgres"),
        password=urllib.parse.unquote(parts.password or ""),
        dbname="postgres",
        connect_timeout=3,
    )
    connection.autocommit = True
    return connection


def _require(service: str, where: str, check) -> None:
    """Fails (never skips) when a service the production shape needs is not reachable."""
    problem = None
    try:
        check()
    except (psycopg2.Error, redis.RedisError) as error:
        problem = str(error).strip()
    if problem is not None:
        pytest.fail(f"{service} is not reachable at {where}: {problem}", pytrace=False)


@contextlib.contextmanager
def fresh_database(name: str = DATABASE_NAME):
    """A new, empty PostgreSQL database for the production processes, dropped afterwards."""
    _require("PostgreSQL", _server_url(), lambda: _admin_connection().close())
    admin = _admin_connection()
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{name}"')
        yield _database_url(name)
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _production_env(database_url: str, broker_url: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in NOT_INHERITED}
    env.update(
        DJANGO_SETTINGS_MODULE="settings.production",
        SECRET_KEY=secrets.token_urlsafe(64),
        DATABASE_URL=database_url,
        CELERY_BROKER_URL=broker_url,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        # Plain HTTP here; in production a TLS-terminating proxy sits in front.
        SECURE_SSL_REDIRECT="False",
        # The demo's CIO and admin sign in here with passwords; two-factor codes, required of
        # them in production, have their own tests (tests/accounts/test_two_factor.py).
        TANDEM_REQUIRE_MFA="False",
        PYTHONUNBUFFERED="1",
    )
    return env


class Processes:
    """The long-running processes of the test, each logging to its own file."""

    def __init__(self, log_dir: Path, env: dict[str, str]):
        self.log_dir = log_dir
        self.env = env
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, *args: str) -> subprocess.Popen:
        log = (self.log_dir / f"{name}.log").open("wb")
        process = subprocess.Popen(  # noqa: S603 - fixed arguments
            [sys.executable, "-m", *args],
            cwd=BASE_DIR,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, for the SIGKILL fallback
        )
        log.close()
        self.running[name] = process
        return process

    def log(self, name: str) -> str:
        return (self.log_dir / f"{name}.log").read_text(errors="replace")

    def logs(self) -> str:
        return "\n".join(
            f"----- {name} (exit code {process.poll()}) -----\n{self.log(name)[-3000:]}"
            for name, process in self.running.items()
        )

    def wait_for(self, what: str, condition, timeout: float = STARTUP_TIMEOUT):
        """Polls `condition` until it returns something truthy; fails with every log when a
        process dies or the time runs out."""
        deadline = time.monotonic() + timeout
        while True:
            result = condition()
            if result:
                return result
            dead = [name for name, process in self.running.items() if process.poll() is not None]
            if dead:
                pytest.fail(f"{', '.join(dead)} exited while waiting for {what}\n{self.logs()}")
            if time.monotonic() > deadline:
                pytest.fail(f"timed out after {timeout}s waiting for {what}\n{self.logs()}")
            time.sleep(0.2)

    def stop(self) -> dict[str, int]:
        """SIGTERM to every process (they shut down gracefully), then wait; SIGKILL to the
        process group of one that does not stop in time. Returns the exit codes."""
        for process in self.running.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        codes = {}
        for name, process in self.running.items():
            try:
                codes[name] = process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                codes[name] = process.wait()
        return codes


def _get(port: int, path: str, headers: dict[str, str] | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def _answers(port: int, path: str):
    try:
        return _get(port, path)
    except OSError:
        return None


def _run(env: dict[str, str], *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
