"""The sealer: chains the events writers left unsealed (issue 28).

A writer inserts its events with no place in the chain yet and takes no lock, so no writer ever
waits for another writer's transaction. After its commit it asks for a seal (`seal_soon`: a
Celery task on the `audit` queue; beat also runs one every ten seconds). One sealer at a time,
under the chain's advisory lock, gives the committed unsealed events the next sequence numbers
in the order of their ids, links each to the hash before it and fills its seal, once (the
PostgreSQL trigger allows nothing else). As a Certificate Transparency log's merge delay, the
time from commit to seal is bounded: SEAL_BOUND; an event unsealed longer is an alert
(/healthz/deep, the metrics, the operations page)."""

import logging
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Count, Min
from django.utils import timezone

from core.tasks import enqueue
from tandem_verify.chain import event_hash, subject_key, subject_tag

from .chain import ROW_FIELDS, chain_head, first_records, lock_chain_head, record_of
from .models import AuditEvent

logger = logging.getLogger(__name__)

# An event is sealed within seconds of its commit; one unsealed for longer than this means the
# sealer is not running (no worker on the `audit` queue, the broker down) and is an alert.
SEAL_BOUND = timedelta(seconds=60)
# Events chained per transaction of the sealer.
BATCH = 2000


def seal_soon() -> None:
    """Asks for a seal once the current transaction commits (once per transaction, however
    many events it records). With the broker away the beat's periodic seal takes them."""
    if any(callback is _request_seal for _, callback, _ in connection.run_on_commit):
        return
    transaction.on_commit(_request_seal)


def _request_seal() -> None:
    enqueue("audit.tasks.seal_chain")


def seal_pending(*, batch: int = BATCH) -> int:
    """Seals every committed unsealed event, oldest id first, `batch` per transaction; returns
    how many. Sealers wait for each other (the chain's lock), never for a writer."""
    sealed = 0
    while True:
        with transaction.atomic():
            lock_chain_head()
            rows = list(
                AuditEvent.objects.filter(sequence__isnull=True)
                .order_by("id")
                .values(*ROW_FIELDS)[:batch]
            )
            if rows:
                _seal(rows)
        sealed += len(rows)
        if len(rows) < batch:
            return sealed


def _seal(rows: list[dict]) -> None:
    sequence, previous_hash = chain_head()
    subjects = [(row["content_type_id"], row["object_id"]) for row in rows]
    # Each link names its subject (tandem_verify.chain): the key comes from the subject's first
    # sealed event, or from its first one in this batch.
    keys = {subject: subject_key(record) for subject, record in first_records(subjects).items()}
    seals = []
    for row, subject in zip(rows, subjects, strict=True):
        sequence += 1
        row = {**row, "sequence": sequence, "prev_hash": previous_hash}
        record = record_of(row)
        if subject not in keys:
            keys[subject] = subject_key(record)
        tag = subject_tag(keys[subject], sequence)
        digest = event_hash(record, tag)
        seals.append((row["id"], sequence, previous_hash, digest, tag))
        previous_hash = digest
    _write_seals(seals, timezone.now())


# The seal of many events in one statement (PostgreSQL: the values as arrays), and of one.
SEAL_MANY = """
    UPDATE audit_auditevent AS e SET sequence = v.sequence, prev_hash = v.prev_hash,
        hash = v.hash, subject_tag = v.tag, sealed_at = %s
    FROM unnest(%s::bigint[], %s::bigint[], %s::varchar[], %s::varchar[], %s::varchar[])
        AS v(id, sequence, prev_hash, hash, tag)
    WHERE e.id = v.id AND e.sequence IS NULL
"""
SEAL_ONE = """
    UPDATE audit_auditevent SET sequence = %s, prev_hash = %s, hash = %s, subject_tag = %s,
        sealed_at = %s
    WHERE id = %s AND sequence IS NULL
"""


def _write_seals(seals: list[tuple], sealed_at) -> None:
    """Fills each event's seal; only an unsealed event is sealed, and every one must be."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(SEAL_MANY, [sealed_at, *map(list, zip(*seals, strict=True))])
            written = cursor.rowcount
        else:
            written = 0
            for event_id, sequence, prev_hash, digest, tag in seals:
                cursor.execute(SEAL_ONE, [sequence, prev_hash, digest, tag, sealed_at, event_id])
                written += cursor.rowcount
    if written != len(seals):
        raise RuntimeError(f"sealed {written} of {len(seals)} events: another sealer ran")


def unsealed() -> tuple[int, datetime | None]:
    """How many events wait for their seal, and when the oldest of them was recorded (None when
    none waits): one query."""
    waiting = AuditEvent.objects.filter(sequence__isnull=True).aggregate(
        count=Count("id"), oldest=Min("occurred_at")
    )
    return waiting["count"], waiting["oldest"]


def seal_delays(since_id: int = 0) -> list[float]:
    """Seconds from write to seal of each sealed event after `since_id`, sorted: what the
    writers benchmark and the load test's reconciliation report against the bound."""
    rows = AuditEvent.objects.filter(pk__gt=since_id, sealed_at__isnull=False).values_list(
        "occurred_at", "sealed_at"
    )
    return sorted((sealed - written).total_seconds() for written, sealed in rows)


def late(oldest: datetime | None, now: datetime) -> bool:
    """Whether an event recorded at `oldest` and still unsealed has waited past SEAL_BOUND."""
    return oldest is not None and now - oldest > SEAL_BOUND


def sealing_ok(now=None) -> bool:
    """No event has waited for its seal longer than SEAL_BOUND."""
    return not late(unsealed()[1], now or timezone.now())
