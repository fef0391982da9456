"""The reminder sweep with 10,000 due steps among 100,000 and among 1,000,000 open steps: its
cost must follow the due steps, not the open ones. Prints each run's time, throughput and peak
memory, the floor (inserting the due steps' 10,000 alert rows in one statement, rolled back, in
the same run) and the ratio between the two sizes. Targets: at most FLOOR_RATIO times the floor
(issue 28: a ratio, so it holds on any machine), ratio between the sizes at most 1.5, memory
flat.

A smaller run (a shared machine, a first look): `BENCH_SWEEP_SIZES=20000,100000
BENCH_SWEEP_REQUESTS=10000 make bench BENCH=sweep` (open steps per run, and requests seeded)."""

import json
import os
import subprocess
import sys
from pathlib import Path

from bench import seed

DUE = int(os.environ.get("BENCH_SWEEP_DUE", "10000"))
SIZES = tuple(int(n) for n in os.environ.get("BENCH_SWEEP_SIZES", "100000,1000000").split(","))
REQUESTS = int(os.environ.get("BENCH_SWEEP_REQUESTS", "100000"))
FLOOR_RATIO = 15
MARK = "bench-sweep"

INSERT = """
INSERT INTO approvals_approvalstep (
    request_id, vendor_id, round, stage, side, group_id, user_id, rule_id, rule_name, reasons,
    state, sla_hours, repeat_every_hours, escalate_after_hours, escalation_group_id,
    escalation_user_id, opened_at, due_at, escalate_at, escalated_at, next_alert_at,
    decided_at, decided_by_id, decided_for_id, comment, kind)
SELECT r.id, NULL, g.round, 1, 'it', %(group)s, NULL, NULL, %(mark)s, '[]',
       'open', 48, 24, 96, NULL, NULL,
       now() - interval '1 day', now() + interval '1 day', now() + interval '3 days', NULL,
       now() + interval '1 day', NULL, NULL, NULL, '', 'review'
FROM generate_series(2, %(rounds)s) AS g(round)
CROSS JOIN (SELECT id FROM intake_purchaserequest WHERE number LIKE 'BENCH-%%' ORDER BY id) AS r
LIMIT %(count)s
"""
MAKE_DUE = """
UPDATE approvals_approvalstep SET due_at = now() - interval '1 hour',
       next_alert_at = now() - interval '1 hour'
WHERE id IN (SELECT id FROM approvals_approvalstep WHERE rule_name = %(mark)s
             ORDER BY random() LIMIT %(due)s)
"""

MEASURE = """
import json, resource, time
import django
django.setup()


def peak_mb():
    # Linux keeps ru_maxrss across exec: this process would report the peak of the benchmark
    # that spawned it. VmHWM is this address space's own peak.
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


from django.db import connection
from django.utils import timezone
from approvals.reminders import sweep_due_steps
from django.db import transaction
baseline = peak_mb()
with connection.cursor() as cursor:
    cursor.execute("SELECT id FROM approvals_approvalstep WHERE state = 'open' "
                   "AND next_alert_at <= %s", [timezone.now()])
    due = [row[0] for row in cursor.fetchall()]
# The floor: the due steps' alert rows in one statement (then rolled back).
values = ", ".join(["(%s, 'reminder', 0, now())"] * len(due))
with transaction.atomic(), connection.cursor() as cursor:
    started = time.perf_counter()
    cursor.execute("INSERT INTO approvals_stepalert (step_id, kind, sequence, created_at) "
                   f"VALUES {values} ON CONFLICT DO NOTHING", due)
    floor = time.perf_counter() - started
    transaction.set_rollback(True)
due = len(due)
started = time.perf_counter()
recorded = sweep_due_steps()
seconds = time.perf_counter() - started
print(json.dumps({"due": due, "recorded": recorded, "seconds": seconds, "floor": floor,
                  "peak_mb": peak_mb(), "baseline_mb": baseline}))
"""


def _prepare(open_steps: int) -> None:
    from django.contrib.auth.models import Group
    from django.db import connection, transaction

    from accounts.models import User
    from approvals.models import ApprovalStep
    from notifications.models import Notification

    group, created = Group.objects.get_or_create(name=MARK)
    if created:
        User.objects.create(username="bench-sweeper", email="sweeper@bench.example").groups.add(
            group
        )
    already_open = ApprovalStep.objects.filter(state="open").exclude(rule_name=MARK).count()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM approvals_stepalert WHERE step_id IN "
            "(SELECT id FROM approvals_approvalstep WHERE rule_name = %s)",
            [MARK],
        )
        cursor.execute("DELETE FROM approvals_approvalstep WHERE rule_name = %s", [MARK])
        Notification.objects.filter(dedupe_key__startswith="reminder:").delete()
        count = open_steps - already_open
        if count > 0:
            rounds = 1 + -(-count // REQUESTS)
            parameters = {"group": group.pk, "mark": MARK, "rounds": rounds, "count": count}
            cursor.execute(INSERT, parameters)
            cursor.execute(MAKE_DUE, {"mark": MARK, "due": DUE})
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE approvals_approvalstep")


def run() -> None:
    seed.setup()
    seed.seed(requests=REQUESTS)
    results = {}
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings"}
    for size in SIZES:
        _prepare(size)
        output = subprocess.run(
            [sys.executable, "-c", MEASURE], cwd=Path(__file__).resolve().parent.parent,
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        results[size] = json.loads(output.stdout.strip().splitlines()[-1])
    _prepare(0)  # leave the data set as seeded, and its tables the size they were
    from django.db import connection

    with connection.cursor() as cursor:
        # The million steps written and removed leave their space in the tables: without this
        # the step table stays three times its size, and later benchmarks read all of it.
        cursor.execute(
            "VACUUM FULL ANALYZE approvals_approvalstep, approvals_stepalert, "
            "notifications_notification"
        )
    small, large = (results[size] for size in SIZES)
    header = ("open steps", "due", "recorded", "sweep s", "due/s", "floor s", "x floor", "peak MB")
    print("{:>12} {:>7} {:>9} {:>8} {:>7} {:>8} {:>8} {:>8}".format(*header))
    for size, row in results.items():
        print(
            f"{size:12,d} {row['due']:7d} {row['recorded']:9d} {row['seconds']:8.2f} "
            f"{row['due'] / row['seconds']:7.0f} {row['floor']:8.3f} "
            f"{row['seconds'] / row['floor']:8.1f} {row['peak_mb']:8.1f}"
        )
    # A ratio to the floor measured in the same run, so the target holds on any machine (issue
    # 28 item 6; an absolute 2,000 due steps/s was met on one 2-core machine, missed on another).
    worst = max(row["seconds"] / row["floor"] for row in (small, large))
    verdict = "PASS" if worst <= FLOOR_RATIO else "MISS"
    print(f"target at most {FLOOR_RATIO}x the one-statement floor: {verdict} ({worst:.1f}x)")
    slowest = min(row["due"] / row["seconds"] for row in (small, large))
    print(f"  (information) {slowest:.0f} due steps per second on this machine")
    ratio = large["seconds"] / small["seconds"]
    verdict = "PASS" if ratio <= 1.5 else "MISS"
    print(f"target time ratio {SIZES[1]:,} / {SIZES[0]:,} at most 1.5: {verdict} ({ratio:.2f}x)")
    growth = large["peak_mb"] / small["peak_mb"]
    verdict = "PASS" if growth <= 1.25 else "MISS"
    print(
        f"target memory flat (at most 1.25x): {verdict} "
        f"(peak {small['peak_mb']:.0f} MB vs {large['peak_mb']:.0f} MB, {growth:.2f}x)"
    )
