"""Insights on 100,000 requests: the dashboard page and GET /api/metrics/ for a reviewer (the
figures of their own side) and for the CIO (every side), in-process through Django's test
client, median of several runs after a warm-up: as asked again while nothing changed (the
figures' cache answers), and "not cached", the cache emptied before each run (the first view
after a write). Floor, in the same run: one pass over the requests
(`SELECT count(*), sum(total_cost_base)`), the least any figure over them costs.
Target: the reviewer's insights at most FLOOR_RATIO times the floor, after a write too."""

import statistics
import time

from bench import seed

RUNS = 7
# At most this many times one pass over the requests, measured in the same run (issue 28: a
# ratio holds on any machine; 300 ms was met on one 2-core machine and missed on another).
FLOOR_RATIO = 10


def _median_ms(call) -> float:
    call()  # warm-up: first-use caches, connection
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def run() -> None:
    seed.setup()
    handles = seed.seed()
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client

    from accounts.models import User

    def floor():
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*), sum(total_cost_base) FROM intake_purchaserequest")
            cursor.fetchall()

    def fetch(client, path, *, cached=True):
        def call():
            if not cached:
                cache.clear()
            response = client.get(path, HTTP_HOST="localhost")
            assert response.status_code == 200, (path, response.status_code)

        return call

    figures = {"one pass over the requests (floor)": _median_ms(floor)}
    for label, username in (("IT reviewer", "bench-it_reviewers"), ("CIO", "bench-cio")):
        client = Client()
        client.force_login(User.objects.get(username=username))
        figures[f"{label}: insights page"] = _median_ms(fetch(client, "/insights/"))
        figures[f"{label}: GET /api/metrics/"] = _median_ms(fetch(client, "/api/metrics/"))
    for label, username in (("IT reviewer", "bench-it_reviewers"), ("CIO", "bench-cio")):
        client = Client()
        client.force_login(User.objects.get(username=username))
        for what, path in (("insights page", "/insights/"), ("GET /api/metrics/", "/api/metrics/")):
            figures[f"{label}: {what}, not cached"] = _median_ms(fetch(client, path, cached=False))
    floor_ms = figures["one pass over the requests (floor)"]
    print(f"median of {RUNS} runs in-process; data: {handles}")
    print(f"{'what':42} {'ms':>8} {'/floor':>8}")
    for name, value in figures.items():
        print(f"{name:42} {value:8.1f} {value / floor_ms:7.1f}x")
    for name in ("IT reviewer: insights page", "IT reviewer: GET /api/metrics/"):
        for shown in (name, f"{name}, not cached"):  # asked again; first after a write
            ratio = figures[shown] / floor_ms
            verdict = "PASS" if ratio <= FLOOR_RATIO else "MISS"
            print(
                f"target at most {FLOOR_RATIO}x one pass: {shown}: {verdict} ({ratio:.1f}x, "
                f"{figures[shown]:.0f} ms)"
            )
