"""The hash chain over the audit trail (SPEC §8, issue 18): how an event's record is built from
its row, how appends are serialised, and how the whole chain is checked. The hashing rules
themselves live in `tandem_verify.chain`, so Tandem and the offline verifier share one
definition."""

from collections.abc import Iterator
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Min, Q, Subquery

from tandem_verify.chain import GENESIS_HASH, event_hash, subject_key, subject_tag, timestamp

from .models import AuditCheckpoint, AuditEvent
from .signing import verify_checkpoint_signature

# pg_advisory_xact_lock key of the chain's head: "tandem:audit" folded into a signed bigint.
CHAIN_LOCK_KEY = 0x74616E64656D_3A61


def lock_chain_head() -> None:
    """Serialises the sealers (never the writers, who take no lock): on PostgreSQL a
    transaction-scoped advisory lock, held until the sealing transaction commits or rolls back,
    so the chain never forks. SQLite needs none: Tandem opens its transactions IMMEDIATE there
    (settings), which already serialises them."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])


def chain_head() -> tuple[int, str]:
    """(sequence, hash) of the newest sealed event; (0, GENESIS_HASH) for an empty chain."""
    head = (
        AuditEvent.objects.filter(sequence__isnull=False)
        .order_by("-sequence")
        .values_list("sequence", "hash")
        .first()
    )
    return head or (0, GENESIS_HASH)


def subject_label(content_type_id: int) -> str:
    content_type = ContentType.objects.get_for_id(content_type_id)
    return f"{content_type.app_label}.{content_type.model}"


def record_of(row: dict) -> dict:
    """The hashed record of an event given as a dict of its columns (a `.values()` row)."""
    return {
        "sequence": row["sequence"],
        "occurred_at": timestamp(row["occurred_at"]),
        "actor": row["actor_id"],
        "on_behalf_of": row["on_behalf_of_id"],
        "subject": subject_label(row["content_type_id"]),
        "object_id": row["object_id"],
        "kind": row["kind"],
        "from_state": row["from_state"],
        "to_state": row["to_state"],
        "payload": row["payload"],
        "prev_hash": row["prev_hash"],
    }


def first_records(subjects) -> dict[tuple[int, int], dict]:
    """The record of each subject's first event, by (content type id, object id), for the
    subjects that have one: what their subject keys derive from. One query."""
    by_type: dict[int, set[int]] = {}
    for content_type_id, object_id in subjects:
        by_type.setdefault(content_type_id, set()).add(object_id)
    if not by_type:
        return {}
    wanted = Q()
    for content_type_id, object_ids in by_type.items():
        wanted |= Q(content_type_id=content_type_id, object_id__in=object_ids)
    firsts = (
        AuditEvent.objects.filter(wanted)
        .values("content_type_id", "object_id")
        .annotate(first=Min("sequence"))
        .values("first")
    )
    rows = AuditEvent.objects.filter(sequence__in=Subquery(firsts)).values(*ROW_FIELDS)
    return {(row["content_type_id"], row["object_id"]): record_of(row) for row in rows}


def record_of_event(event: AuditEvent) -> dict:
    return record_of({field: getattr(event, field) for field in ROW_FIELDS})


ROW_FIELDS = (
    "id",
    "sequence",
    "occurred_at",
    "actor_id",
    "on_behalf_of_id",
    "content_type_id",
    "object_id",
    "kind",
    "from_state",
    "to_state",
    "payload",
    "prev_hash",
    "hash",
    "subject_tag",
)


@dataclass(frozen=True)
class BrokenLink:
    sequence: int
    event_id: int | None
    reason: str

    def __str__(self):
        where = f"event #{self.event_id}" if self.event_id else "no event"
        return f"sequence {self.sequence} ({where}): {self.reason}"


@dataclass(frozen=True)
class ChainReport:
    checked: int
    head_hash: str
    broken: BrokenLink | None
    checkpoints_checked: int = 0

    @property
    def intact(self) -> bool:
        return self.broken is None


def iter_rows(chunk_size: int = 2000) -> Iterator[dict]:
    """Every event in chain order, read in keyset chunks (constant memory on any length)."""
    last = 0
    while True:
        rows = list(
            AuditEvent.objects.filter(sequence__gt=last)
            .order_by("sequence")
            .values(*ROW_FIELDS)[:chunk_size]
        )
        if not rows:
            return
        yield from rows
        last = rows[-1]["sequence"]


def verify_chain(*, public_key: bytes | None = None) -> ChainReport:
    """Checks every link: sequences 1, 2, 3… without a gap, each event's `prev_hash` equal to the
    hash before it, each hash equal to the hash of its record. Then the signed checkpoints: each
    signature valid, and the chain at each checkpoint's sequence ending in its head hash (which
    catches a chain rewritten with recomputed hashes, or cut short). The first broken link is
    named. Then each link's subject tag, from the subject's first event (a key per subject is
    held while checking)."""
    expected_sequence, previous_hash = 1, GENESIS_HASH
    heads = {}  # sequence -> hash, only for sequences that a checkpoint names
    keys = {}  # (content type id, object id) -> the subject's key, from its first event
    tagging = False  # once links name their subject, every later link does
    checkpoint_sequences = set(AuditCheckpoint.objects.values_list("sequence", flat=True))
    checked = 0
    for row in iter_rows():
        if row["sequence"] != expected_sequence:
            return ChainReport(
                checked,
                previous_hash,
                BrokenLink(
                    expected_sequence,
                    row["id"],
                    f"sequence jumps from {expected_sequence - 1} to {row['sequence']}: "
                    "events are missing",
                ),
            )
        if row["prev_hash"] != previous_hash:
            return ChainReport(
                checked,
                previous_hash,
                BrokenLink(
                    row["sequence"],
                    row["id"],
                    "its previous hash does not match the event before it",
                ),
            )
        record = record_of(row)
        if event_hash(record, row["subject_tag"]) != row["hash"]:
            return ChainReport(
                checked,
                previous_hash,
                BrokenLink(
                    row["sequence"],
                    row["id"],
                    "its content does not match its hash: the event was changed",
                ),
            )
        subject = (row["content_type_id"], row["object_id"])
        if subject not in keys:  # the subject's first event
            keys[subject] = subject_key(record)
        key = keys[subject]
        tagging = tagging or bool(row["subject_tag"])
        if tagging and row["subject_tag"] != subject_tag(key, row["sequence"]):
            return ChainReport(
                checked,
                previous_hash,
                BrokenLink(
                    row["sequence"],
                    row["id"],
                    "its link does not name its subject: the event was moved to another one",
                ),
            )
        previous_hash = row["hash"]
        if row["sequence"] in checkpoint_sequences:
            heads[row["sequence"]] = row["hash"]
        expected_sequence += 1
        checked += 1
    heads[0] = GENESIS_HASH
    checkpoints = list(AuditCheckpoint.objects.order_by("sequence", "id"))
    for checkpoint in checkpoints:
        problem = verify_checkpoint_signature(checkpoint, public_key=public_key)
        if problem is None and checkpoint.sequence > checked:
            problem = (
                f"the checkpoint of {checkpoint.day} names {checkpoint.sequence} events, "
                f"the chain holds {checked}: events were removed from its end"
            )
        elif problem is None and heads.get(checkpoint.sequence) != checkpoint.head_hash:
            problem = (
                f"the chain's hash at this point differs from the signed checkpoint of "
                f"{checkpoint.day}: the chain was rewritten"
            )
        if problem:
            return ChainReport(
                checked,
                previous_hash,
                BrokenLink(checkpoint.sequence, None, problem),
                checkpoints_checked=len(checkpoints),
            )
    return ChainReport(checked, previous_hash, None, checkpoints_checked=len(checkpoints))
