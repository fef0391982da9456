"""'Waiting for me' (page) and GET /api/requests/?awaiting=me on 100,000 requests, served by
gunicorn (2 workers) under wrk, against two floors measured in the same run: the same rows
through a cursor serialised to JSON (raw SQL), and a Django view that does nothing.
Target: within 3x of the raw-SQL floor."""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bench import seed

DURATION = os.environ.get("BENCH_DURATION", "8s")
CONNECTIONS = "4"
HERE = Path(__file__).resolve().parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wrk(url: str, token: str) -> dict:
    result = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}", "-s", str(HERE / "latency.lua"), url],
        capture_output=True, text=True, env={**os.environ, "BENCH_TOKEN": token}, check=True,
    )  # fmt: skip
    return json.loads(result.stdout.strip().splitlines()[-1])


def _session_cookie(token: str) -> str:
    """Signs the IT reviewer in as the site does (the configured backends, the session store),
    for the page measurement, and returns the session key."""
    from django.conf import settings
    from django.test import Client
    from rest_framework.authtoken.models import Token

    client = Client()
    client.force_login(Token.objects.select_related("user").get(key=token).user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def run() -> None:
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk (make bench installs it)")
    seed.setup()
    handles = seed.seed()
    token = handles["it_reviewer_token"]
    port = _free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings"}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "bench.wsgi", "-w", "2", "-b", f"127.0.0.1:{port}",
         "--log-level", "warning"],
        cwd=HERE.parent, env=env,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/bench/bare/", timeout=1)  # noqa: S310
                break
            except OSError:
                time.sleep(0.2)
        session = _session_cookie(token)
        _check_signed_in(f"{base}/approvals/", session)
        figures = {
            "bare Django view (floor)": _wrk(f"{base}/bench/bare/", token),
            "raw SQL + JSON (floor)": _wrk(f"{base}/bench/raw-awaiting/", token),
            "GET /api/requests/?awaiting=me": _wrk(f"{base}/api/requests/?awaiting=me", token),
        }
        os.environ["BENCH_COOKIE"] = session
        figures["'Waiting for me' page"] = _wrk_with_cookie(f"{base}/approvals/", session)
    finally:
        server.terminate()
        server.wait(timeout=15)
    floor = figures["raw SQL + JSON (floor)"]
    print(f"gunicorn 2 workers, wrk {CONNECTIONS} connections for {DURATION} each; data: {handles}")
    print(
        f"{'endpoint':36} {'p50 ms':>8} {'p95 ms':>8} {'p50/raw':>8} {'p95/raw':>8} {'requests':>9}"
    )
    for name, row in figures.items():
        print(
            f"{name:36} {row['p50']:8.2f} {row['p95']:8.2f} {row['p50'] / floor['p50']:8.2f}x "
            f"{row['p95'] / floor['p95']:7.2f}x {row['requests']:9d}"
        )
    for name in ("GET /api/requests/?awaiting=me", "'Waiting for me' page"):
        ratio = figures[name]["p95"] / floor["p95"]
        verdict = "PASS" if ratio <= 3 else "MISS"
        print(f"target p95 within 3x of raw SQL: {name}: {verdict} ({ratio:.2f}x)")


def _check_signed_in(url: str, session_key: str) -> None:
    """The page must answer 200 to the session, or the benchmark would time a redirect."""
    request = urllib.request.Request(url, headers={"Cookie": f"sessionid={session_key}"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        if response.status != 200 or response.url != url:
            sys.exit(
                f"{url} did not answer the signed-in reviewer: {response.status} {response.url}"
            )


def _wrk_with_cookie(url: str, session_key: str) -> dict:
    script = HERE / "latency_cookie.lua"
    script.write_text(
        (HERE / "latency.lua")
        .read_text()
        .replace(
            'local token = os.getenv("BENCH_TOKEN")',
            f'wrk.headers["Cookie"] = "sessionid={session_key}"\nlocal token = nil',
        )
    )
    try:
        result = subprocess.run(
            ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}", "-s", str(script), url],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
    finally:
        script.unlink()
    return json.loads(result.stdout.strip().splitlines()[-1])
