"""The audit chain's rules, shared by Tandem and the offline verifier (standard library only).

Canonical JSON: the object's keys sorted, no whitespace, UTF-8, non-ASCII characters kept.

An event's record holds its gap-free sequence number, its time (ISO 8601 in UTC with
microseconds), the ids of who acted and for whom, the subject ("app_label.model" and its id),
the kind, the states before and after, the payload, and the previous event's hash (64 zeros
before the first event). Its hash is computed in two steps:

    content = SHA-256(canonical JSON of the record without prev_hash)
    hash    = SHA-256(canonical JSON of {"sequence", "prev_hash", "content"})

so the hash covers every field and the previous hash. Changing any field changes the event's
hash and, through `prev_hash`, every hash after it. The two steps let an evidence packet prove
that one request's events sit in the chain under a signed head without disclosing the other
events: for those it carries only their `content` digest and hash.

Each link also names its subject (chain version 2; events recorded before it have no tag), so
that a packet proves it holds *every* event of its request: the link's hash covers

    subject = HMAC-SHA-256(key = subject key, message = the sequence number, in decimal)
    subject key = SHA-256("tandem-subject-key/1\n" + canonical JSON of the subject's first
                          event's record, prev_hash included)

A packet discloses its own request's first record, so the verifier derives the request's key
and recognises the request's links among all the links it carries; another subject's tags look
random without that subject's first record, and differ from link to link, so they disclose
neither whose they are nor which of them belong together."""

import hashlib
import hmac
import json
from datetime import UTC, datetime

GENESIS_HASH = "0" * 64
HASHED_FIELDS = (
    "sequence",
    "occurred_at",
    "actor",
    "on_behalf_of",
    "subject",
    "object_id",
    "kind",
    "from_state",
    "to_state",
    "payload",
    "prev_hash",
)


def canonical_json(value) -> bytes:
    """The one byte string a JSON value hashes and signs as."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def timestamp(moment: datetime) -> str:
    """An aware datetime as the chain writes it: UTC, microseconds, `+00:00`."""
    if moment.tzinfo is None:
        raise ValueError("audit times are aware datetimes")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def content_digest(record: dict) -> str:
    """The hex SHA-256 of the record's fields other than prev_hash (other keys are ignored)."""
    missing = [name for name in HASHED_FIELDS if name not in record]
    if missing:
        raise ValueError(f"record lacks {', '.join(missing)}")
    fields = {name: record[name] for name in HASHED_FIELDS if name != "prev_hash"}
    return hashlib.sha256(canonical_json(fields)).hexdigest()


def link_hash(sequence: int, prev_hash: str, content: str, subject: str = "") -> str:
    """The hash of the chain link at `sequence`, given the previous hash, the content digest and
    the subject tag (empty for events recorded before links named their subject)."""
    link = {"sequence": sequence, "prev_hash": prev_hash, "content": content}
    if subject:
        link["subject"] = subject
    return hashlib.sha256(canonical_json(link)).hexdigest()


def event_hash(record: dict, subject: str = "") -> str:
    """The event's hash: over its content, the previous hash and its subject tag."""
    return link_hash(record["sequence"], record["prev_hash"], content_digest(record), subject)


def subject_key(first_record: dict) -> str:
    """The key of a subject's tags, from the record of the subject's first event (hex)."""
    missing = [name for name in HASHED_FIELDS if name not in first_record]
    if missing:
        raise ValueError(f"record lacks {', '.join(missing)}")
    fields = {name: first_record[name] for name in HASHED_FIELDS}
    return hashlib.sha256(b"tandem-subject-key/1\n" + canonical_json(fields)).hexdigest()


def subject_tag(key: str, sequence: int) -> str:
    """The tag that the link at `sequence` carries when it is about the subject of `key`."""
    return hmac.new(bytes.fromhex(key), str(sequence).encode(), hashlib.sha256).hexdigest()


def packet_message(packet: dict) -> bytes:
    """What an evidence packet's Ed25519 signature covers: the whole packet.json but the
    signature itself, as canonical JSON, after a line naming what it is (so that no signed
    packet can pass for a signed checkpoint, or the other way round)."""
    unsigned = {key: value for key, value in packet.items() if key != "attestation"}
    return b"tandem-evidence-packet/2\n" + canonical_json(unsigned)


def checkpoint_message(checkpoint: dict) -> bytes:
    """What a checkpoint's Ed25519 signature covers: the chain's length and head hash, and when
    it was signed."""
    return canonical_json(
        {
            "version": 1,
            "sequence": checkpoint["sequence"],
            "head_hash": checkpoint["head_hash"],
            "signed_at": checkpoint["signed_at"],
        }
    )
