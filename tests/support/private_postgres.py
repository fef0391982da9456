"""A throwaway PostgreSQL cluster for outage tests: `initdb` into a temporary directory, served
on a free port of 127.0.0.1 (trust authentication, superuser `postgres`), stopped, restarted and
removed by the test alone. The machine's shared PostgreSQL on 5432 is never touched.

PostgreSQL refuses to run as root: under root the cluster belongs to the `postgres` OS user and
every server command runs as that user (`runuser`)."""

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg2
import pytest

SUPERUSER = "postgres"
START_TIMEOUT = 30  # seconds


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _bin_dir() -> Path:
    """The newest installed PostgreSQL's server programs (initdb and pg_ctl are not on PATH
    on Debian)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    pytest.fail("PostgreSQL's initdb is not installed (apt-get install postgresql)")


def _version(initdb: str) -> int:
    try:
        return int(Path(initdb).parts[-3])
    except ValueError:
        return 0


class PrivatePostgres:
    """One cluster: `start()`, `stop()` (fast or immediate), `restart()`, `destroy()`."""

    def __init__(self):
        self.bin = _bin_dir()
        # Not pytest's tmp_path: under root it is private to root, and the server runs as
        # `postgres`.
        self.directory = Path(tempfile.mkdtemp(prefix="tandem-pg-"))
        self.data = self.directory / "data"
        self.port = _free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam(SUPERUSER)
            os.chown(self.directory, owner.pw_uid, owner.pw_gid)
            self.as_user = ["runuser", "-u", SUPERUSER, "--"]

    def url(self, database: str = "postgres") -> str:
        return f"postgres://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _run(self, program: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        result = subprocess.run(  # noqa: S603 - fixed arguments
            [*self.as_user, str(self.bin / program), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.directory,
            check=False,
        )
        if result.returncode != 0:
            pytest.fail(f"{program} {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def up(self) -> bool:
        try:
            psycopg2.connect(self.url(), connect_timeout=1).close()
        except psycopg2.OperationalError:
            return False
        return True

    def _until(self, what: str, condition) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while not condition():
            if time.monotonic() > deadline:
                log = self.directory / "server.log"
                tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                pytest.fail(f"the private PostgreSQL on port {self.port}: {what}\n{tail}")
            time.sleep(0.1)

    def start(self) -> "PrivatePostgres":
        if not (self.data / "PG_VERSION").exists():
            self._run(
                "initdb", "--pgdata", str(self.data), "--username", SUPERUSER,
                "--auth", "trust", "--encoding", "UTF8", "--no-sync",
            )  # fmt: skip
        options = " ".join(
            [
                f"-p {self.port}",
                "-c listen_addresses=127.0.0.1",
                f"-c unix_socket_directories={self.directory}",
                # A test cluster: durability is not needed, speed is.
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
            ]
        )
        self._run(
            "pg_ctl", "start", "--pgdata", str(self.data), "--wait",
            "--log", str(self.directory / "server.log"), "-o", options,
        )  # fmt: skip
        self._until("did not start", self.up)
        return self

    def stop(self, mode: str = "fast") -> None:
        """`fast` disconnects clients and shuts down cleanly; `immediate` is a crash."""
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "stop", "--pgdata", str(self.data), "--wait", "--mode", mode)
        self._until("did not stop", lambda: not self.up())

    def restart(self) -> None:
        self.stop()
        self.start()

    def create_database(self, name: str) -> str:
        connection = psycopg2.connect(self.url(), connect_timeout=3)
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            connection.close()
        return self.url(name)

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            subprocess.run(  # noqa: S603 - fixed arguments
                [*self.as_user, str(self.bin / "pg_ctl"), "stop", "--pgdata", str(self.data),
                 "--wait", "--mode", "immediate"],
                capture_output=True,
                timeout=60,
                check=False,
            )  # fmt: skip
        shutil.rmtree(self.directory, ignore_errors=True)
