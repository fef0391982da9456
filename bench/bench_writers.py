"""Writers that do not queue behind each other (issue 28 item 3): decisions per second on distinct
requests with 1, 4 and 8 concurrent writers on PostgreSQL, each writer a process of its own
(as gunicorn's workers are) deciding the IT steps of requests no other writer touches, for
PHASE_SECONDS. The audit sealer runs alongside in its own process, as in production, and the
time from each event's write to its seal is measured (p95, target under 2 s).

Target: 8 writers reach at least 1.8x the decisions per second of 1 (on 2 cores the limit is near
2x; a global lock, such as the chain's append lock before the sealer, holds it near 1x). The
decided steps are opened again afterwards, so every run finds the same work."""

import multiprocessing
import statistics
import time

from bench import seed

PHASE_SECONDS = 8
WRITERS = (1, 4, 8)
# Steps handed to each writer: more than it can decide in a phase.
STEPS_PER_WRITER = 400
TARGET = 1.8
SEAL_TARGET_SECONDS = 2.0


def _writer(step_ids, reviewer_id, barrier, stop_at, results):
    from django.db import connection

    from accounts.models import User
    from approvals.models import ApprovalStep
    from approvals.services import decide_step

    connection.close()  # a connection of its own, never the parent's
    reviewer = User.objects.get(pk=reviewer_id)
    steps = list(ApprovalStep.objects.filter(pk__in=step_ids).order_by("pk"))
    barrier.wait()
    decided = []
    for step in steps:
        if time.monotonic() >= stop_at.value:
            break
        decide_step(step, by=reviewer, decision="approve", comment="Benchmark")
        decided.append(step.pk)
    results.put(decided)
    connection.close()


def _sealer(stop, results):
    from django.db import connection

    from audit.sealer import seal_pending

    connection.close()
    sealed = 0
    while not stop.is_set():
        done = seal_pending()
        sealed += done
        if not done:
            time.sleep(0.05)
    results.put(sealed + seal_pending())
    connection.close()


def _phase(writers: int, steps: list[int], reviewer_id: int) -> tuple[float, list[int]]:
    """Decisions per second with `writers` processes, and the steps they decided."""
    from django.db import connections

    context = multiprocessing.get_context("fork")
    connections.close_all()  # no connection crosses the fork
    barrier = context.Barrier(writers + 1)
    stop_at = context.Value("d", float("inf"))
    results = context.Queue()
    chunks = [steps[n * STEPS_PER_WRITER : (n + 1) * STEPS_PER_WRITER] for n in range(writers)]
    processes = [
        context.Process(target=_writer, args=(chunk, reviewer_id, barrier, stop_at, results))
        for chunk in chunks
    ]
    for process in processes:
        process.start()
    barrier.wait()
    started = time.monotonic()
    stop_at.value = started + PHASE_SECONDS
    decided = [pk for _ in processes for pk in results.get(timeout=PHASE_SECONDS + 120)]
    elapsed = time.monotonic() - started
    for process in processes:
        process.join()
    return len(decided) / elapsed, decided


def _reopen(step_ids: list[int]) -> None:
    """Opens the decided steps again (and their requests stay in review: an IT approval alone
    does not decide a request), so the next run decides the same steps."""
    from approvals.models import ApprovalStep

    ApprovalStep.objects.filter(pk__in=step_ids).update(
        state="open", decided_by=None, decided_for=None, decided_at=None, comment=""
    )


def run() -> None:
    seed.setup()
    seed.seed()
    from django.db import connections

    from accounts.models import User
    from approvals.models import ApprovalStep
    from audit.models import AuditEvent
    from audit.sealer import seal_delays, seal_pending

    reviewer = User.objects.get(username="bench-it_reviewers")
    steps = list(
        ApprovalStep.objects.filter(
            state="open", side="it", stage=1, request__number__startswith=seed.PREFIX
        )
        .order_by("pk")
        .values_list("pk", flat=True)[: max(WRITERS) * STEPS_PER_WRITER]
    )
    seal_pending()
    first_event = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    context = multiprocessing.get_context("fork")
    rates, all_decided = {}, []
    try:
        for writers in WRITERS:
            connections.close_all()
            stop, sealed = context.Event(), context.Queue()
            sealer = context.Process(target=_sealer, args=(stop, sealed))
            sealer.start()
            rates[writers], decided = _phase(writers, steps, reviewer.pk)
            all_decided.extend(decided)
            stop.set()
            sealed.get(timeout=120)
            sealer.join()
            _reopen(decided)
    finally:
        _reopen(all_decided)
    delays = seal_delays(first_event)
    p95 = delays[int(len(delays) * 0.95) - 1] if delays else float("nan")
    ratio = rates[8] / rates[1]
    print(f"decisions per second on distinct requests ({PHASE_SECONDS} s per phase, one process")
    print("per writer, the sealer alongside):")
    for writers, rate in rates.items():
        print(f"  {writers} writer(s): {rate:7.1f}/s   {rate / rates[1]:.2f}x 1 writer")
    print(f"events sealed: {len(delays)}; write to seal: median {statistics.median(delays):.2f} s,")
    print(f"  p95 {p95:.2f} s, max {delays[-1]:.2f} s")
    verdict = "PASS" if ratio >= TARGET else "MISS"
    print(f"target 8 writers >= {TARGET}x 1: {verdict} ({ratio:.2f}x)")
    print(
        f"target seal p95 under {SEAL_TARGET_SECONDS:.0f} s: "
        f"{'PASS' if p95 < SEAL_TARGET_SECONDS else 'MISS'} ({p95:.2f} s)"
    )
