"""`make chaos`: the production shape under a short load while its services fail on a schedule,
then the load test's reconciliation (issue 30 item 7).

gunicorn, two workers, the audit sealer and beat run as in `make load`, on a private PostgreSQL
cluster and a private Redis (their own ports and data directories: never the machine's shared
services), under Locust (CHAOS_USERS, default 60, for CHAOS_DURATION, default 60s). Meanwhile,
each for a few seconds: Redis frozen (SIGSTOP, as a network partition), Redis stopped and
started (its queued messages are lost: the outbox and the periodic tasks are the source of
truth), a worker killed and started again, PostgreSQL stopped and started. Then the outbox must
drain, every audit event be sealed, the reconciliation hold (nothing lost, nothing doubled), and
every 5xx fall inside a window when PostgreSQL was down (plus a few seconds for the connections
to come back). The report lists the faults with their times and any 5xx outside them."""

import importlib
import os
import sys
import tempfile
import time
from pathlib import Path

from tests.support.private_postgres import PrivatePostgres
from tests.support.private_redis import PrivateRedis

# After PostgreSQL is back, requests may still fail while each process's connection is renewed.
GRACE = 5  # seconds


class Schedule:
    """The faults, each `SECONDS` long, one every `EVERY` seconds after a warm-up; the windows
    when a 5xx is expected (PostgreSQL down) are recorded as they happen."""

    SECONDS = 5
    EVERY = 10

    def __init__(self, postgres: PrivatePostgres, redis_server: PrivateRedis):
        self.postgres, self.redis = postgres, redis_server
        self.log: list[tuple[float, float, str]] = []
        self.windows: list[tuple[float, float]] = []

    def _fault(self, what: str, begin, end) -> None:
        started = time.time()
        begin()
        time.sleep(self.SECONDS)
        end()
        self.log.append((started, time.time(), what))
        print(f"  fault: {what} for {time.time() - started:.0f} s", flush=True)

    def __call__(self, shape) -> None:
        time.sleep(self.EVERY)
        frozen = self.redis.frozen()
        self._fault(
            "Redis frozen (SIGSTOP)", frozen.__enter__, lambda: frozen.__exit__(None, None, None)
        )
        time.sleep(self.EVERY)
        self._fault("Redis stopped", self.redis.stop, self.redis.start)
        time.sleep(self.EVERY)
        self._fault(
            "a worker killed", lambda: shape.kill("worker-1"), lambda: shape.restart("worker-1")
        )
        time.sleep(self.EVERY)
        started = time.time()
        self._fault("PostgreSQL stopped", self.postgres.stop, self.postgres.start)
        self.windows.append((started, time.time() + GRACE))

    def unexplained(self, server_error_times) -> list:
        """The 5xx (and unanswered requests) outside every PostgreSQL outage."""
        return [
            (at, status, endpoint)
            for at, status, endpoint in server_error_times
            if not any(begin <= at <= end for begin, end in self.windows)
        ]


def main() -> int:
    directory = Path(tempfile.mkdtemp(prefix="tandem-chaos-"))
    postgres = PrivatePostgres().start()
    redis_server = PrivateRedis(directory / "redis").start()
    try:
        os.environ.update(
            LOAD_DATABASE_URL=postgres.url("tandem_chaos"),
            LOAD_REDIS_URL=redis_server.url(0),
            LOAD_USERS=os.environ.get("CHAOS_USERS", "60"),
            LOAD_DURATION=os.environ.get("CHAOS_DURATION", "60s"),
            LOAD_SPAWN_RATE="20",
        )
        load = importlib.import_module("bench.load.__main__")
        schedule = Schedule(postgres, redis_server)
        print(
            f"private PostgreSQL on port {postgres.port}, private Redis on port {redis_server.port}"
        )
        verdict = load.run(faults=schedule)
        print("\nfaults (local time):")
        for begin, end, what in schedule.log:
            print(f"  {time.strftime('%H:%M:%S', time.localtime(begin))}–"
                  f"{time.strftime('%H:%M:%S', time.localtime(end))} {what}")  # fmt: skip
        return verdict
    finally:
        redis_server.stop()
        postgres.destroy()


if __name__ == "__main__":
    sys.exit(main())
