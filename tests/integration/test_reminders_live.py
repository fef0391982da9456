"""Reminders with real processes (SPEC §4), on PostgreSQL and Redis:
- two sweeps at once in two processes record every reminder exactly once;
- a real Celery worker and beat deliver an overdue step's reminder within a bounded wait;
- a worker killed in the middle of a batch, then restarted, loses nothing and sends nothing
  twice.
Each test uses its own database, dropped afterwards, and its own Redis server (a private one on
a free port: no other run on the machine shares its queues)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg2
import pytest

from tests.integration.shape import BASE_DIR, Processes, _production_env, fresh_database
from tests.support.private_redis import PrivateRedis

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def django_call(env, code: str) -> str:
    """Runs `code` with Django set up, in a process of its own; returns its output."""
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def query(database_url: str, sql: str):
    with psycopg2.connect(database_url) as connection, connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


@pytest.fixture
def live(tmp_path, request):
    """A fresh, migrated database and a private Redis for production-shape processes."""
    redis_server = PrivateRedis(tmp_path / "redis").start()
    name = f"tandem_live_{request.node.name[:20].lower()}_{os.getpid()}"
    with fresh_database(name) as database_url:
        env = _production_env(database_url, redis_server.url())
        env.update(
            EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
            EMAIL_FILE_PATH=str(tmp_path / "mail"),
            TANDEM_DELIVERY_CLAIM_TIMEOUT="2",
        )
        (tmp_path / "mail").mkdir()
        migrate = subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", "migrate", "--no-input"],
            cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert migrate.returncode == 0, migrate.stderr[-3000:]
        try:
            yield env, database_url, tmp_path
        finally:
            redis_server.stop()


def test_two_sweeps_at_once_record_each_reminder_once(live):
    env, database_url, _ = live
    django_call(env, "from tests.integration.live_data import *; overdue_requests(30)")
    sweeps = [
        subprocess.Popen(  # noqa: S603
            [sys.executable, "manage.py", "sweep_reminders"],
            cwd=BASE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for _ in range(2)
    ]
    outputs = [sweep.communicate(timeout=120) for sweep in sweeps]
    assert [sweep.returncode for sweep in sweeps] == [0, 0], outputs
    recorded = sum(int(out.split()[0]) for out, _ in outputs)
    assert recorded == 60  # 30 requests x 2 steps, each reminded once between both sweeps
    rows = query(
        database_url,
        "SELECT step_id, kind, sequence, count(*) FROM approvals_stepalert "
        "GROUP BY step_id, kind, sequence",
    )
    assert len(rows) == 60
    assert {count for *_, count in rows} == {1}
    emails = query(
        database_url,
        "SELECT count(*), count(DISTINCT dedupe_key) FROM notifications_notification "
        "WHERE channel = 'email' AND subject LIKE 'Reminder:%%'",
    )
    assert emails == [(60, 60)]


def wait_until(what, condition, processes, timeout=45):
    return processes.wait_for(what, condition, timeout=timeout)


def mail_subjects(mail_dir: Path) -> list[str]:
    subjects = []
    for path in mail_dir.iterdir():
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("Subject: "):
                subjects.append(line.removeprefix("Subject: "))
    return subjects


def test_worker_and_beat_deliver_an_overdue_reminder(live):
    env, database_url, tmp_path = live
    django_call(
        env,
        "from tests.integration.live_data import *; overdue_requests(1); sweep_every_second()",
    )
    processes = Processes(tmp_path, env)
    try:
        processes.start("worker", "celery", "-A", "settings", "worker", "--concurrency=1",
                        "--loglevel=INFO", "-n", f"live-{os.getpid()}@tandem")  # fmt: skip
        processes.start("beat", "celery", "-A", "settings", "beat", "--loglevel=INFO",
                        "--schedule", str(tmp_path / "beat-schedule"))  # fmt: skip
        started = time.monotonic()
        wait_until(
            "the reminder e-mails to the IT and the procurement reviewer",
            lambda: (
                len([s for s in mail_subjects(tmp_path / "mail") if s.startswith("Reminder:")]) == 2
            ),
            processes,
        )
        assert time.monotonic() - started < 45
        status = query(
            database_url,
            "SELECT status, count(*) FROM notifications_notification "
            "WHERE subject LIKE 'Reminder:%%' GROUP BY status ORDER BY status",
        )
        assert status == [("sent", 4)]  # e-mail and in-app, for each of the two reviewers
    finally:
        processes.stop()


def test_a_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice(live):
    env, database_url, tmp_path = live
    env = {**env, "EMAIL_BACKEND": "tests.support.slow_mail.EmailBackend"}
    django_call(env, "from tests.integration.live_data import *; pending_emails(12)")
    processes = Processes(tmp_path, env)
    worker_args = ("celery", "-A", "settings", "worker", "--concurrency=1", "--loglevel=INFO",
                   "--prefetch-multiplier=1")  # fmt: skip
    try:
        worker = processes.start("worker", *worker_args, "-n", f"first-{os.getpid()}@tandem")
        wait_until(
            "a few e-mails", lambda: len(list((tmp_path / "mail").iterdir())) >= 3, processes
        )
        os.killpg(worker.pid, signal.SIGKILL)  # in the middle of the batch
        worker.wait()
        del processes.running["worker"]
        sent_before = len(list((tmp_path / "mail").iterdir()))
        assert sent_before < 12
        wait_until(
            "the dead worker's claim to time out (TANDEM_DELIVERY_CLAIM_TIMEOUT, 2 s)",
            lambda: (
                query(
                    database_url,
                    "SELECT count(*) FROM notifications_notification WHERE status = 'sending' "
                    "AND claimed_at > now() - interval '2 seconds'",
                )
                == [(0,)]
            ),
            processes,
        )
        processes.start("worker2", *worker_args, "-n", f"second-{os.getpid()}@tandem")
        # The periodic delivery sweep (run here once by hand) takes up the interrupted one.
        django_call(env, "from notifications.tasks import deliver_pending; deliver_pending.delay()")
        wait_until(
            "every e-mail",
            lambda: (
                query(
                    database_url,
                    "SELECT count(*) FROM notifications_notification "
                    "WHERE channel = 'email' AND status = 'sent'",
                )
                == [(12,)]
            ),
            processes,
            timeout=60,
        )
    finally:
        processes.stop()
    subjects = mail_subjects(tmp_path / "mail")
    assert sorted(subjects) == sorted(f"Message {n}" for n in range(12))  # each exactly once
