"""Verifies a Tandem evidence packet offline (standard library plus `cryptography`).

Checks, in order, and reports the first failure of each kind:
1. every event of the request: its hash recomputed from its record (content digest, then the
   link with the previous hash);
2. the chain links from the request's first event to the head: each hash recomputed from the
   one before it, sequences without a gap, and each of the request's events found in them
   with the same content digest and hash;
3. the latest signed checkpoint: its Ed25519 signature (made with the pinned public key when
   one is given), and the chain at its sequence ending in its head hash;
4. the request's facts against its events: each decided step has its decision event (same
   decider, delegate, outcome and comment), the request's state is where its last transition
   left it, and attachments match the SHA-256 recorded when they were added."""

import base64
import binascii
import json
import zipfile
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .chain import checkpoint_message, content_digest, event_hash, link_hash

FORMAT = "tandem-evidence-packet/1"
REQUEST_SUBJECT = "intake.purchaserequest"
REQUEST_TRANSITIONS = {
    "submit",
    "resubmit",
    "withdraw",
    "approve",
    "reject",
    "request_changes",
    "mark_ordered",
    "close",
    "auto_approved",
}


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def fail(self, message: str) -> None:
        self.problems.append(message)


class PacketError(Exception):
    """The file is not a readable evidence packet."""


def read_packet(path) -> dict:
    try:
        with zipfile.ZipFile(path) as archive:
            document = archive.read("packet.json")
    except (OSError, zipfile.BadZipFile, KeyError) as error:
        raise PacketError(f"{path}: not an evidence packet ({error})") from error
    try:
        packet = json.loads(document)
    except ValueError as error:
        raise PacketError(f"packet.json is not JSON: {error}") from error
    if not isinstance(packet, dict) or packet.get("format") != FORMAT:
        raise PacketError(f"packet.json is not in the format {FORMAT}")
    return packet


def verify(packet: dict, *, public_key: bytes | None = None) -> Report:
    report = Report()
    try:
        _verify(packet, public_key, report)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        report.fail(f"packet.json is malformed: {type(error).__name__}: {error}")
    return report


def _verify(packet, public_key, report: Report) -> None:
    request = packet["request"]
    events = packet["events"]
    label = request.get("number", "the request")
    # 1. Each event's own hash.
    by_sequence = {}
    for event in events:
        record = event["record"]
        if record["subject"] != REQUEST_SUBJECT or record["object_id"] != request["id"]:
            report.fail(f"event {record['sequence']} is not about {label}")
        if event_hash(record) != event["hash"]:
            report.fail(
                f"event {record['sequence']} ({record['kind']}): its content does not match its "
                "hash: the event was changed"
            )
        by_sequence[record["sequence"]] = event
    if not events:
        report.fail(f"the packet has no events for {label}")
        return

    # 2. The chain from the first event to the head.
    chain = packet["chain"]
    links = chain["links"]
    previous = chain["prev_hash"]
    expected = events[0]["record"]["sequence"]
    hashes = {expected - 1: previous}
    if not links or links[0][0] != expected:
        report.fail("the chain links do not start at the request's first event")
    for sequence, content, stored_hash in links:
        if sequence != expected:
            report.fail(f"the chain jumps from {expected - 1} to {sequence}: events are missing")
            break
        if link_hash(sequence, previous, content) != stored_hash:
            report.fail(
                f"chain link {sequence}: its hash does not follow from the link before it: "
                "the chain was changed"
            )
            break
        hashes[sequence] = stored_hash
        previous, expected = stored_hash, expected + 1
    for sequence, event in by_sequence.items():
        if sequence not in hashes:
            report.fail(f"event {sequence} is not in the chain links")
            continue
        link = links[sequence - links[0][0]] if links else None
        if link is None or link[1] != content_digest(event["record"]) or link[2] != event["hash"]:
            report.fail(f"event {sequence} differs from the chain's link at its place")
        if event["record"]["prev_hash"] != hashes.get(sequence - 1):
            report.fail(f"event {sequence}: its previous hash is not the chain's")
    head = links[-1][0] if links else None
    report.notes.append(
        f"{len(events)} event(s) of {label} checked; chain links {links[0][0] if links else '-'}"
        f" to {head}"
    )

    # 3. The signed checkpoint.
    checkpoint = packet.get("checkpoint")
    if checkpoint is None:
        report.fail("the packet has no signed checkpoint: the chain head is not attested")
    else:
        _verify_checkpoint(checkpoint, hashes, events, public_key, report)

    # 4. The request's facts against its events.
    _verify_facts(packet, report)


def _verify_checkpoint(checkpoint, hashes, events, public_key, report: Report) -> None:
    try:
        stored_key = base64.b64decode(checkpoint["public_key"], validate=True)
        signature = base64.b64decode(checkpoint["signature"], validate=True)
        if public_key is not None and stored_key != public_key:
            report.fail("the checkpoint was signed with another key than the one given")
            return
        Ed25519PublicKey.from_public_bytes(stored_key).verify(
            signature, checkpoint_message(checkpoint)
        )
    except (ValueError, binascii.Error, InvalidSignature):
        report.fail(f"the signature of the checkpoint of {checkpoint.get('day')} is not valid")
        return
    sequence = checkpoint["sequence"]
    first = events[0]["record"]["sequence"]
    if sequence >= first - 1:
        if sequence not in hashes:
            report.fail(
                f"the signed checkpoint names {sequence} events but the chain links end before"
            )
        elif hashes[sequence] != checkpoint["head_hash"]:
            report.fail(
                f"the chain at {sequence} differs from the signed checkpoint of "
                f"{checkpoint['day']}: the chain was rewritten"
            )
    last = events[-1]["record"]["sequence"]
    pinned = "pinned key" if public_key is not None else f"key {checkpoint.get('key_id')}"
    if sequence >= last:
        report.notes.append(
            f"every event is covered by the checkpoint of {checkpoint['day']} ({pinned})"
        )
    else:
        report.notes.append(
            f"events after {sequence} are newer than the latest signed checkpoint "
            f"({checkpoint['day']}, {pinned}): they are chained but not yet attested"
        )


# The event that completes each kind of work item (step kinds "order" and "receipt").
WORK_ITEM_EVENTS = {"order": "mark_ordered", "receipt": "close"}


def _verify_facts(packet, report: Report) -> None:
    request = packet["request"]
    records = [event["record"] for event in packet["events"]]
    decisions, carried = {}, set()
    for record in records:
        if record["kind"].startswith("step_") and "step" in record["payload"]:
            decisions.setdefault(record["payload"]["step"], record)
        elif record["kind"] == "approval_carried_over":
            carried.add(record["payload"].get("step"))
    # Work after approval is done by the request's own transition, not by a step decision.
    done_by = {r["kind"]: r["actor"] for r in records if r["kind"] in WORK_ITEM_EVENTS.values()}
    for step in packet["steps"]:
        if step["decided_by"] is None:
            continue
        event = WORK_ITEM_EVENTS.get(step.get("kind"))
        if event:
            if done_by.get(event) != step["decided_by"]:
                report.fail(
                    f"step {step['id']} ({step['reviewer']}) is done, but no {event} event by "
                    "the same person is recorded"
                )
            continue
        if step.get("carried_from"):
            if step["id"] not in carried:
                report.fail(
                    f"step {step['id']} ({step['reviewer']}) carries over an earlier approval, "
                    "but no event records it"
                )
            continue
        record = decisions.get(step["id"])
        if record is None:
            report.fail(f"step {step['id']} ({step['reviewer']}) has no decision event")
            continue
        found = (record["actor"], record["on_behalf_of"], record["to_state"])
        claimed = (step["decided_by"], step["on_behalf_of"], step["state"])
        if found != claimed or record["payload"].get("comment", "") != step["comment"]:
            report.fail(
                f"step {step['id']} ({step['reviewer']}): its decision differs from the one "
                "recorded in the audit trail"
            )
    transitions = [
        r for r in records if r["kind"] in REQUEST_TRANSITIONS and r["to_state"] and r["from_state"]
    ]
    if transitions and transitions[-1]["to_state"] != request["state"]:
        report.fail(
            f"the request is shown as {request['state']} but its last recorded transition "
            f"left it {transitions[-1]['to_state']}"
        )
    added = {
        r["payload"].get("attachment"): r["payload"].get("sha256")
        for r in records
        if r["kind"] == "attachment_added"
    }
    for attachment in packet["attachments"]:
        recorded = added.get(attachment["id"])
        if recorded and recorded != attachment["sha256"]:
            report.fail(
                f"attachment {attachment['name']}: its SHA-256 differs from the one recorded "
                "when it was added"
            )
