"""`make load`: Tandem's production shape under 200 simulated people, then the reconciliation.

gunicorn (4 workers), two Celery workers and the audit sealer run with production's settings
(bench/load/settings.py) on a fresh PostgreSQL database (LOAD_DATABASE_URL, default
`tandem_load`, dropped and created anew) and a Redis database (LOAD_REDIS_URL) as broker; Locust
(bench/load/locustfile.py) drives 150 requesters and 50 reviewers for LOAD_DURATION (default
5m). Then the outbox is left to drain, every process is stopped, the figures are printed per
endpoint, and bench/load/reconcile.py proves nothing was lost or doubled. Exit status 1 on any
5xx (or a connection refused) or a failed reconciliation. Logs and results are under var/load/."""

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import psycopg2
import redis

BASE_DIR = Path(__file__).resolve().parents[2]
OUT = BASE_DIR / "var" / "load"
DURATION = os.environ.get("LOAD_DURATION", "5m")
USERS = int(os.environ.get("LOAD_USERS", "200"))
SPAWN_RATE = os.environ.get("LOAD_SPAWN_RATE", "20")
PORT = int(os.environ.get("LOAD_PORT", "8170"))
DATABASE_URL = os.environ.get("LOAD_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tandem_load")
REDIS_URL = os.environ.get("LOAD_REDIS_URL", "redis://127.0.0.1:6379/13")
# How long the outbox may take to drain after the run (the e-mails of the last minutes are
# still queued when the users stop).
DRAIN_TIMEOUT = int(os.environ.get("LOAD_DRAIN_SECONDS", "300"))


def _fresh_database() -> None:
    parts = urllib.parse.urlsplit(DATABASE_URL)
    name = parts.path.lstrip("/")
    admin = psycopg2.connect(
        host=parts.hostname or "127.0.0.1", port=parts.port or 5432,
        user=urllib.parse.unquote(parts.username or "postgres"),
        password=urllib.parse.unquote(parts.password or ""), dbname="postgres",
    )  # fmt: skip
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def _environment() -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "SECRET_KEY", "DEBUG"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="bench.load.settings",
        SECRET_KEY=secrets.token_urlsafe(64),
        DATABASE_URL=DATABASE_URL,
        CELERY_BROKER_URL=REDIS_URL,
        CACHE_URL=REDIS_URL,  # shared by the four workers, as in production
        LOAD_REDIS_URL=REDIS_URL,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
        LOAD_DATA=str(OUT / "people.json"),
        LOAD_RESULTS=str(OUT / "results.json"),
    )
    return env


def _start(name: str, args: list[str], env: dict) -> subprocess.Popen:
    log = (OUT / f"{name}.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", *args], cwd=BASE_DIR, env=env, stdout=log,
        stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


class Shape:
    """The running processes by name; a fault schedule stops and starts them."""

    def __init__(self, commands: dict[str, list[str]], env: dict):
        self.commands, self.env = commands, env
        self.processes = {name: _start(name, args, env) for name, args in commands.items()}

    def kill(self, name: str) -> None:
        """As a crash: SIGKILL, nothing finishes."""
        os.killpg(self.processes[name].pid, signal.SIGKILL)
        self.processes[name].wait()

    def restart(self, name: str) -> None:
        self.processes[name] = _start(name, self.commands[name], self.env)


def _wait_for_server() -> None:
    for _ in range(150):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/", timeout=1)  # noqa: S310
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.2)
    sys.exit(f"gunicorn did not answer on port {PORT}; see {OUT / 'gunicorn.log'}")


def _drain(env: dict) -> str:
    """Waits until the outbox has no e-mail left to deliver and the sealer has chained every
    audit event; returns what is left of the two together."""
    code = (
        "import django; django.setup()\n"
        "from audit.sealer import unsealed\n"
        "from notifications.models import Notification\n"
        "print(Notification.objects.filter(status__in=['pending', 'sending', 'failed']).count()"
        " + unsealed()[0])"
    )
    deadline = time.monotonic() + DRAIN_TIMEOUT
    while True:
        left = subprocess.run(
            [sys.executable, "-c", code], cwd=BASE_DIR, env=env, capture_output=True, text=True,
            check=True,
        ).stdout.strip()  # fmt: skip
        if left == "0" or time.monotonic() > deadline:
            return left
        time.sleep(2)


def _print_figures(results: dict) -> None:
    total = results["total"]
    print(
        f"\n{USERS} users (three requesters to each reviewer) for {DURATION}: "
        f"{total['requests']} requests, {total['rps']:.1f} requests/s"
    )
    print(f"{'endpoint':58} {'requests':>8} {'p50 ms':>7} {'p95 ms':>7} {'req/s':>6}  statuses")
    for row in results["endpoints"]:
        statuses = " ".join(f"{k}:{v}" for k, v in sorted(row["statuses"].items()))
        print(
            f"{row['endpoint']:58} {row['requests']:8d} {row['p50']:7.0f} {row['p95']:7.0f} "
            f"{row['rps']:6.2f}  {statuses}"
        )
    print(
        f"{'all':58} {total['requests']:8d} {total['p50']:7.0f} {total['p95']:7.0f} "
        f"{total['rps']:6.2f}"
    )
    print(f"5xx or no answer: {results['server_errors']}")


def _celery_worker(name: str, *queue: str) -> list[str]:
    return ["celery", "-A", "settings", "worker", *queue, "-c", "1", "-n", f"{name}@%h",
            "--without-gossip", "--without-mingle", "--loglevel", "WARNING"]  # fmt: skip


def main() -> int:
    return run()


def run(*, faults=None) -> int:
    """The load test; with `faults` (`make chaos`), beat runs too, `faults(shape)` is called in
    a thread while Locust runs (`shape.processes` by name, `shape.restart(name)`), and the 5xx
    are judged by `faults.unexplained(server_error_times)` instead of having to be none."""
    OUT.mkdir(parents=True, exist_ok=True)
    env = _environment()
    broker = redis.Redis.from_url(REDIS_URL)
    # What an earlier run left queued or counted.
    broker.delete("celery", "audit", "tandem-load:mail")
    print(f"fresh database {DATABASE_URL}, Redis {REDIS_URL}", flush=True)
    _fresh_database()
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v0"], cwd=BASE_DIR, env=env,
        check=True,
    )  # fmt: skip
    subprocess.run(
        [sys.executable, "-m", "bench.load.seed", env["LOAD_DATA"]], cwd=BASE_DIR, env=env,
        check=True,
    )  # fmt: skip
    commands = {
        "gunicorn": ["gunicorn", "settings.wsgi", "-w", "4", "-b", f"127.0.0.1:{PORT}",
                     "--timeout", "60"],
        "worker-1": _celery_worker("load-1"),
        "worker-2": _celery_worker("load-2"),
        # The audit sealer on its own queue, as compose runs it (audit.sealer).
        "sealer": _celery_worker("load-sealer", "-Q", "audit"),
    }  # fmt: skip
    if faults:  # the periodic delivery and seal take what a fault left waiting
        commands["beat"] = ["celery", "-A", "settings", "beat", "--loglevel", "WARNING"]
    shape = Shape(commands, env)
    try:
        _wait_for_server()
        print(f"Locust: {USERS} users for {DURATION} against gunicorn on port {PORT}", flush=True)
        chaos = threading.Thread(target=faults, args=(shape,)) if faults else None
        if chaos:
            chaos.start()
        locust = subprocess.run(
            [sys.executable, "-m", "locust", "-f", str(Path(__file__).with_name("locustfile.py")),
             "--headless", "-u", str(USERS), "-r", SPAWN_RATE, "-t", DURATION,
             "--host", f"http://127.0.0.1:{PORT}", "--only-summary", "--loglevel", "WARNING",
             "--stop-timeout", "10"],
            cwd=BASE_DIR, env=env, check=False, stdout=(OUT / "locust.log").open("wb"),
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        if chaos:
            chaos.join()
        left = _drain(env)
    finally:
        _stop(list(shape.processes.values()))
    results = json.loads((OUT / "results.json").read_text())
    _print_figures(results)
    print(f"outbox rows undelivered and audit events unsealed after the drain: {left}")
    print("\nreconciliation:", flush=True)
    reconciled = subprocess.run(
        [sys.executable, "-m", "bench.load.reconcile"], cwd=BASE_DIR, env=env, check=False
    )
    if faults:
        unexplained = faults.unexplained(results["server_error_times"])
        print(f"5xx or no answer: {results['server_errors']}, of which outside the faults' "
              f"windows: {len(unexplained)}")  # fmt: skip
        for at, status, endpoint in unexplained[:10]:
            print(f"  {time.strftime('%H:%M:%S', time.localtime(at))} {status} {endpoint}")
        ok = not unexplained and reconciled.returncode == 0 and left == "0"
        print(f"\nchaos run: {'PASS' if ok else 'FAIL'} (every 5xx within a fault, outbox "
              "drained, every event sealed, reconciled)")  # fmt: skip
        return 0 if ok else 1
    if locust.returncode != 0:
        print(f"Locust reported failures (exit {locust.returncode}): {OUT / 'locust.log'}")
    ok = (
        results["server_errors"] == 0
        and locust.returncode == 0
        and reconciled.returncode == 0
        and left == "0"
    )
    verdict = "PASS" if ok else "FAIL"
    print(f"\nload test: {verdict} (zero 5xx, no failure, outbox drained, reconciled)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
