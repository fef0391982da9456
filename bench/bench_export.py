"""Memory of the requests CSV export over 100,000 requests (`python -m bench export`), on the
benchmarks' shared data set (bench/seed.py) in the PostgreSQL of DATABASE_URL.

The export streams: rows are read with `.iterator(chunk_size=2000)` (a server-side cursor on
PostgreSQL) and written as they come, so the process's memory must not grow with the table. A
fresh subprocess measures its peak RSS (getrusage ru_maxrss) once after django.setup() and
importing the views (the floor), then again after streaming the whole export through Django's
test client as an admin. Target: a peak under 150 MB."""

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from bench import seed as dataset  # sets DJANGO_SETTINGS_MODULE=bench.settings (settings.dev)

TARGET_MB = 150
ADMIN = "export-bench-admin"
ROOT = Path(__file__).resolve().parent.parent


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def _admin():
    from accounts.models import User

    admin, created = User.objects.get_or_create(
        username=ADMIN, defaults={"is_staff": True, "is_superuser": True}
    )
    if created:
        admin.set_unusable_password()
        admin.save(update_fields=["password"])
    return admin


def measure() -> None:
    """In a fresh process: the floor, then the peak after streaming the whole export."""
    import django

    django.setup()
    from django.test import Client

    import insights.views  # noqa: F401 - part of the floor
    from accounts.models import User

    floor = _peak_mb()
    client = Client()
    client.force_login(User.objects.get(username=ADMIN))
    started = time.monotonic()
    response = client.get("/insights/export/requests.csv")
    lines = size = 0
    for chunk in response.streaming_content:
        lines += chunk.count(b"\n")
        size += len(chunk)
    seconds = time.monotonic() - started
    print(
        json.dumps(
            {
                "status": response.status_code,
                "streaming": response.streaming,
                "rows": lines - 1,  # the header
                "megabytes": size / 1024 / 1024,
                "seconds": seconds,
                "floor_mb": floor,
                "peak_mb": _peak_mb(),
            }
        )
    )


def run() -> None:
    """Creates and migrates the database of DATABASE_URL when needed, seeds the benchmarks'
    shared data set (bench/seed.py: 100,000 requests, idempotent per size) and measures."""
    dataset.setup()
    seeded = dataset.seed()
    if seeded["seeded"]:
        print(f"data set: seeded in {seeded['seconds']:.0f} s")
    _admin()

    # Linux carries a process's peak RSS into the program it execs: a child exec'd straight
    # from this (seeded, large) process would start with our peak as its ru_maxrss. A shell that
    # forks again (the trailing `exit` keeps it from exec'ing in place) starts the measuring
    # process afresh.
    child = subprocess.run(  # noqa: S603 - our own interpreter and module
        ["/bin/sh", "-c", '"$0" -m bench.bench_export --measure; exit $?', sys.executable],
        cwd=ROOT,
        env=os.environ,
        capture_output=True,
        text=True,
        check=False,
    )
    if child.returncode != 0:
        print(child.stdout, child.stderr, sep="\n")
        raise SystemExit("the measuring process failed")
    result = json.loads(child.stdout.strip().splitlines()[-1])
    peak, floor = result["peak_mb"], result["floor_mb"]
    passed = result["status"] == 200 and result["streaming"] and peak < TARGET_MB
    print(
        f"rows exported: {result['rows']:,} ({result['megabytes']:.1f} MB of CSV in "
        f"{result['seconds']:.1f} s, streamed: {result['streaming']})"
    )
    print(f"peak RSS: {peak:.1f} MB")
    print(f"floor (django.setup() + views imported): {floor:.1f} MB")
    print(f"ratio: {peak / floor:.2f}x the floor (+{peak - floor:.1f} MB)")
    print(f"target: < {TARGET_MB} MB")
    print("PASS" if passed else "FAIL")


if __name__ == "__main__":
    if sys.argv[1:] == ["--measure"]:
        measure()
    else:
        run()
