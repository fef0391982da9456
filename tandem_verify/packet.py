"""Verifies a Tandem evidence packet offline (standard library plus `cryptography`).

Checks, and reports every failure it finds:
1. Tandem's Ed25519 signature over the whole packet (made with the pinned public key when one
   is given): the event list, its order, the chain head at export and the request's facts are
   Tandem's word, events newer than the latest checkpoint included;
2. every event of the request: about the request, listed in chain order, its hash recomputed
   from its record (content digest, then the link with the previous hash and its subject tag);
3. the chain links from the request's first event to the head: each hash recomputed from the
   one before it, sequences without a gap, ending at the packet's head, and each of the
   request's events found in them with the same content digest, hash and tag;
4. completeness: every link whose subject tag names the request (tandem_verify.chain) has its
   event in the packet; links recorded before links named their subject are covered by 1 only;
5. the latest signed checkpoint: its signature, and the chain at its sequence ending in its
   head hash;
6. the request's facts against its events: each decided step has its decision event (same
   decider, delegate, outcome and comment), the request's state is where its last transition
   left it, and attachments match the SHA-256 recorded when they were added.

Packets of the older format 1 prove neither 1 nor 4: they are refused with the reason, and the
rest is checked."""

import base64
import binascii
import json
import zipfile
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .chain import (
    checkpoint_message,
    content_digest,
    event_hash,
    link_hash,
    packet_message,
    subject_key,
    subject_tag,
)

FORMAT = "tandem-evidence-packet/2"
OLD_FORMATS = {"tandem-evidence-packet/1"}
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
    if not isinstance(packet, dict) or packet.get("format") not in {FORMAT, *OLD_FORMATS}:
        raise PacketError(f"packet.json is not in the format {FORMAT}")
    return packet


def verify(packet: dict, *, public_key: bytes | None = None) -> Report:
    report = Report()
    try:
        _verify(packet, public_key, report)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
        report.fail(f"packet.json is malformed: {type(error).__name__}: {error}")
    return report


def _verify(packet, public_key, report: Report) -> None:
    request = packet["request"]
    events = packet["events"]
    label = request.get("number", "the request")
    current = packet.get("format") == FORMAT
    signed_by = None
    if current:
        signed_by = _verify_attestation(packet, public_key, report)
    else:
        report.fail(
            f"this packet is in the older format {packet.get('format')}: it cannot prove that it "
            f"holds every event of {label}; download the evidence packet again from Tandem"
        )
    # 2. Each event: the request's, in chain order, its own hash.
    by_sequence, last = {}, 0
    for event in events:
        record = event["record"]
        sequence = record["sequence"]
        if record["subject"] != REQUEST_SUBJECT or record["object_id"] != request["id"]:
            report.fail(
                f"event {sequence} ({record['kind']}) is about {record['subject']} "
                f"{record['object_id']}, not {label}: an event of another subject was put in"
            )
        if sequence <= last:
            report.fail(
                f"the events are not in chain order: event {sequence} is listed after event "
                f"{last}: the list was reordered"
            )
        last = max(last, sequence)
        if event_hash(record, event.get("subject_tag", "")) != event["hash"]:
            report.fail(
                f"event {sequence} ({record['kind']}): its content does not match its hash: the "
                "event was changed"
            )
        by_sequence[sequence] = event
    if not events:
        report.fail(f"the packet has no events for {label}")
        return

    # 3. The chain from the request's first event to the head.
    chain = packet["chain"]
    links = [(*link[:3], link[3] if len(link) > 3 else "") for link in chain["links"]]
    first = min(by_sequence)
    previous, expected = chain["prev_hash"], first
    hashes = {first - 1: previous}
    at_place = {}
    if not links or links[0][0] != first:
        report.fail("the chain links do not start at the request's first event")
    tagging = False
    for sequence, content, stored_hash, tag in links:
        if sequence != expected:
            report.fail(f"the chain jumps from {expected - 1} to {sequence}: events are missing")
            break
        if link_hash(sequence, previous, content, tag) != stored_hash:
            report.fail(
                f"chain link {sequence}: its hash does not follow from the link before it: "
                "the chain was changed"
            )
            break
        if tagging and not tag:
            report.fail(f"chain link {sequence} names no subject, unlike the links before it")
        tagging = tagging or bool(tag)
        hashes[sequence] = stored_hash
        at_place[sequence] = (content, stored_hash, tag)
        previous, expected = stored_hash, expected + 1
    for sequence, event in by_sequence.items():
        if sequence not in hashes:
            report.fail(f"event {sequence} is not in the chain links")
            continue
        own = (content_digest(event["record"]), event["hash"], event.get("subject_tag", ""))
        if at_place.get(sequence) != own:
            report.fail(f"event {sequence} differs from the chain's link at its place")
        if event["record"]["prev_hash"] != hashes.get(sequence - 1):
            report.fail(f"event {sequence}: its previous hash is not the chain's")
    head = chain.get("head")
    end = (links[-1][0], links[-1][2]) if links else None
    if current and (head is None or end != (head["sequence"], head["hash"])):
        report.fail(
            f"the chain links end at {end[0] if end else '-'}, not at the head "
            f"{head['sequence'] if head else '-'} that Tandem exported: links were cut off"
        )
    report.notes.append(
        f"{len(events)} event(s) of {label} checked; chain links {links[0][0] if links else '-'}"
        f" to {end[0] if end else '-'}"
    )

    # 4. Completeness: every link that names the request has its event here.
    if current:
        _verify_complete(packet, by_sequence, links, label, report)

    # 5. The signed checkpoint.
    checkpoint = packet.get("checkpoint")
    if checkpoint is None:
        report.fail("the packet has no signed checkpoint: the chain head is not attested")
    else:
        _verify_checkpoint(checkpoint, hashes, first, last, public_key, signed_by, report)

    # 6. The request's facts against its events.
    _verify_facts(packet, report)


def _verify_attestation(packet, public_key, report: Report) -> bytes | None:
    """Tandem's signature over the packet; returns the key it was made with when it is valid."""
    attestation = packet.get("attestation")
    if not attestation:
        report.fail(
            "the packet is not signed by Tandem: nothing proves that its list of events is "
            "complete (Tandem signs packets once TANDEM_AUDIT_SIGNING_KEY is set)"
        )
        return None
    try:
        stored_key = base64.b64decode(attestation["public_key"], validate=True)
        signature = base64.b64decode(attestation["signature"], validate=True)
        if public_key is not None and stored_key != public_key:
            report.fail("the packet was signed with another key than the one given")
            return None
        Ed25519PublicKey.from_public_bytes(stored_key).verify(signature, packet_message(packet))
    except (ValueError, binascii.Error, InvalidSignature):
        report.fail(
            "Tandem's signature over the packet does not match its contents: packet.json was "
            "changed after Tandem made it"
        )
        return None
    if public_key is not None:
        report.notes.append("the packet is signed with the pinned key")
    else:
        report.notes.append(
            f"the packet is signed with key {attestation.get('key_id')}, which was not pinned: "
            "pass --public-key with the key from the admins' checkpoint e-mails to rule out a "
            "packet made elsewhere"
        )
    return stored_key


def _verify_complete(packet, by_sequence, links, label, report: Report) -> None:
    """Every link tagged with the request's subject key has its event in the packet, and every
    event's link is tagged with it. The key comes from the request's first event: a packet
    without it fails here too."""
    key = subject_key(by_sequence[min(by_sequence)]["record"])
    proven = untagged = 0
    for sequence, _content, _hash, tag in links:
        if not tag:
            untagged += 1
            continue
        names_request = tag == subject_tag(key, sequence)
        if sequence in by_sequence and not names_request:
            report.fail(
                f"event {sequence}: its chain link does not name {label}: the request's first "
                "event is missing, or the event is another's"
            )
        elif sequence not in by_sequence and names_request:
            report.fail(
                f"event {sequence} of {label} is missing from the packet: its chain link names "
                f"{label}"
            )
        elif names_request:
            proven += 1
    report.notes.append(
        f"every link that names {label} has its event in the packet ({proven} event(s))"
    )
    if untagged:
        report.notes.append(
            f"{untagged} older chain link(s) name no subject: for these the packet's signature "
            "is what proves no event is left out"
        )


def _verify_checkpoint(checkpoint, hashes, first, last, public_key, signed_by, report) -> None:
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
    if signed_by is not None and stored_key != signed_by:
        report.fail("the checkpoint and the packet are signed with different keys")
    sequence = checkpoint["sequence"]
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
    pinned = "pinned key" if public_key is not None else f"key {checkpoint.get('key_id')}"
    if sequence >= last:
        report.notes.append(
            f"every event is covered by the checkpoint of {checkpoint['day']} ({pinned})"
        )
    else:
        report.notes.append(
            f"events after {sequence} are newer than the latest signed checkpoint "
            f"({checkpoint['day']}, {pinned}): they are chained, and attested by the packet's "
            "signature"
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
