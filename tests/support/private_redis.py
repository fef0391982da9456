"""A private Redis server for outage tests: started on a free port in a temporary directory and
stopped (only it) by the test; the shared Redis on 6379 is never touched."""

import contextlib
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    def __init__(self, directory: Path):
        if not shutil.which("redis-server"):
            pytest.fail("redis-server is not installed (apt-get install redis-server)")
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = _free_port()
        self.process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def client(self) -> redis.Redis:
        # No retries: redis-py retries a refused connection with backoff for seconds.
        return redis.Redis(port=self.port, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0))

    def up(self) -> bool:
        try:
            return self.client().ping()
        except redis.RedisError:
            return False

    def start(self) -> "PrivateRedis":
        self.process = subprocess.Popen(  # noqa: S603 - fixed arguments
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],  # fmt: skip
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not self.up():
            if time.monotonic() > deadline or self.process.poll() is not None:
                pytest.fail(f"the private Redis on port {self.port} did not start")
            time.sleep(0.05)
        return self

    @contextlib.contextmanager
    def frozen(self):
        """Redis stopped with SIGSTOP for the block, as a network partition looks to a client:
        connections open (the kernel still accepts them), nothing is ever answered."""
        self.process.send_signal(signal.SIGSTOP)
        try:
            yield self
        finally:
            self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # a frozen server would never shut down
            try:  # SHUTDOWN NOSAVE is immediate; SIGTERM takes seconds
                self.client().shutdown(nosave=True)
            except redis.RedisError:
                self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        deadline = time.monotonic() + 10
        while self.up():
            if time.monotonic() > deadline:
                pytest.fail(f"the private Redis on port {self.port} did not stop")
            time.sleep(0.05)
