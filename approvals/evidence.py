"""The evidence packet of a purchase request (issue 18): one ZIP an auditor verifies offline
with `python -m tandem_verify packet.zip`, without access to Tandem.

packet.json holds the request with its line items, every approval step with its decision,
decider, delegate and times, the attachments' SHA-256, the request's audit events with their
records and chain hashes, the chain links from the request's first event to the head (other
events only as their content digest, hash and subject tag, so nothing of other requests is
disclosed), the latest signed checkpoint, and Tandem's signature over all of it.

It proves that it is complete (issue 27): each link's subject tag tells the request's links from
the others', so a left-out event is a link naming the request without its event; the signature
covers the list's order and the head at export, so the events newer than the checkpoint cannot
be cut off either. packet.html shows the same for people."""

import hashlib
import io
import json
import zipfile

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder
from django.template.loader import render_to_string
from django.utils import timezone

from audit.chain import ROW_FIELDS, chain_head, record_of
from audit.models import AuditCheckpoint, AuditEvent
from audit.sealer import seal_pending
from audit.signing import as_dict, sign_packet
from intake.models import PurchaseRequest
from intake.selectors import timeline
from tandem_verify.chain import content_digest, timestamp

from .selectors import steps_of

FORMAT = "tandem-evidence-packet/2"


def packet_filename(purchase_request: PurchaseRequest) -> str:
    return f"evidence-{purchase_request.number}.zip"


def build_packet(purchase_request: PurchaseRequest) -> bytes:
    """The ZIP's bytes. Reads in a constant number of queries plus one per chunk of chain links."""
    data = packet_data(purchase_request)
    document = json.dumps(data, indent=2, ensure_ascii=False, cls=DjangoJSONEncoder)
    html = render_to_string("approvals/evidence_packet.html", {"packet": data})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("packet.json", document)
        archive.writestr("packet.html", html)
        archive.writestr("README.txt", render_to_string("approvals/evidence_readme.txt"))
    return buffer.getvalue()


def packet_data(purchase_request: PurchaseRequest) -> dict:
    purchase_request = (
        PurchaseRequest.objects.select_related("requester", "category", "vendor", "department")
        .prefetch_related("line_items", "attachments")
        .get(pk=purchase_request.pk)
    )
    # Whatever still waits for its seal is sealed first, so the packet holds every event so far.
    # Then the head: the events and links are read up to it, so an event sealed meanwhile is in
    # neither (its link would otherwise name the request without its event).
    seal_pending()
    head_sequence, head_hash = chain_head()
    events = list(
        timeline(purchase_request).filter(sequence__lte=head_sequence).order_by("sequence")
    )
    steps = list(steps_of(purchase_request).select_related("decided_by", "decided_for"))
    people_ids = {purchase_request.requester_id}
    for event in events:
        people_ids.update(filter(None, (event.actor_id, event.on_behalf_of_id)))
    for step in steps:
        people_ids.update(filter(None, (step.decided_by_id, step.decided_for_id, step.user_id)))
    people = {
        str(user.pk): {"username": user.username, "name": user.get_full_name() or user.username}
        for user in get_user_model().objects.filter(pk__in=people_ids)
    }
    checkpoint = AuditCheckpoint.objects.filter(sequence__lte=head_sequence).first()
    data = {
        "format": FORMAT,
        "generated_at": timestamp(timezone.now()),
        "site": settings.TANDEM_SITE_URL,
        "request": _request(purchase_request),
        "line_items": [
            {
                "position": item.position,
                "description": item.description,
                "quantity": str(item.quantity),
                "unit_price": str(item.unit_price),
                "amount": str(item.amount),
            }
            for item in purchase_request.line_items.all()
        ],
        "steps": [_step(step) for step in steps],
        "attachments": [_attachment(a) for a in purchase_request.attachments.all()],
        "people": people,
        "events": [_event(event) for event in events],
        "chain": chain_links(
            events[0].sequence if events else None, head=(head_sequence, head_hash)
        ),
        "checkpoint": as_dict(checkpoint) if checkpoint else None,
    }
    # Signed as the verifier reads it back: plain JSON values (dates and decimals as text).
    data = json.loads(json.dumps(data, cls=DjangoJSONEncoder))
    data["attestation"] = sign_packet(data)
    return data


def chain_links(from_sequence: int | None, *, head: tuple[int, str], chunk_size: int = 5000):
    """Every link from `from_sequence` to the chain's `head` as [sequence, content digest, hash,
    subject tag], the hash before the first and the head. Enough to recompute each hash from the
    one before it, and to tell the request's links from the others' (tandem_verify.chain)."""
    head_sequence, head_hash = head
    if from_sequence is None:
        return {"prev_hash": None, "links": [], "head": None}
    before = AuditEvent.objects.filter(sequence=from_sequence).values_list("prev_hash", flat=True)
    links, last = [], from_sequence - 1
    while last < head_sequence:
        rows = list(
            AuditEvent.objects.filter(sequence__gt=last, sequence__lte=head_sequence)
            .order_by("sequence")
            .values(*ROW_FIELDS)[:chunk_size]
        )
        if not rows:
            break
        for row in rows:
            links.append(
                [
                    row["sequence"],
                    content_digest(record_of(row)),
                    row["hash"],
                    row["subject_tag"],
                ]
            )
        last = rows[-1]["sequence"]
    return {
        "prev_hash": before.first(),
        "links": links,
        "head": {"sequence": head_sequence, "hash": head_hash},
    }


def _request(purchase_request: PurchaseRequest) -> dict:
    return {
        "id": purchase_request.pk,
        "number": purchase_request.number,
        "title": purchase_request.title,
        "state": purchase_request.state,
        "state_label": purchase_request.get_state_display(),
        "requester": purchase_request.requester_id,
        "description": purchase_request.description,
        "business_justification": purchase_request.business_justification,
        "expected_benefit": purchase_request.expected_benefit,
        "category": getattr(purchase_request.category, "name", None),
        "department": str(purchase_request.department) if purchase_request.department else None,
        "vendor": purchase_request.vendor_label,
        "currency": purchase_request.currency,
        "billing": purchase_request.billing,
        "term_months": purchase_request.term_months,
        "total_cost": _text(purchase_request.total_cost),
        "total_cost_base": _text(purchase_request.total_cost_base),
        "base_currency": settings.TANDEM_BASE_CURRENCY,
        "data_classification": purchase_request.data_classification,
        "handles_personal_data": purchase_request.handles_personal_data,
        "needed_by": _text(purchase_request.needed_by),
        "created_at": _time(purchase_request.created_at),
        "submitted_at": _time(purchase_request.submitted_at),
        "decided_at": _time(purchase_request.decided_at),
        "po_number": purchase_request.po_number,
        "ordered_on": _text(purchase_request.ordered_on),
        "received_on": _text(purchase_request.received_on),
    }


def _step(step) -> dict:
    return {
        "id": step.pk,
        "kind": step.kind,
        "carried_from": step.carried_from_id,
        "round": step.round,
        "stage": step.stage,
        "side": step.side,
        "reviewer": step.reviewer_label,
        "rule": step.rule_name,
        "state": step.state,
        "opened_at": _time(step.opened_at),
        "due_at": _time(step.due_at),
        "decided_at": _time(step.decided_at),
        "decided_by": step.decided_by_id,
        "on_behalf_of": step.decided_for_id,
        "comment": step.comment,
    }


def _attachment(attachment) -> dict:
    digest = hashlib.sha256()
    with attachment.file.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return {
        "id": attachment.pk,
        "name": attachment.original_name,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "sha256": digest.hexdigest(),
        "uploaded_by": attachment.uploaded_by_id,
        "uploaded_at": _time(attachment.uploaded_at),
    }


def _event(event: AuditEvent) -> dict:
    record = record_of({field: getattr(event, field) for field in ROW_FIELDS})
    return {"record": record, "hash": event.hash, "subject_tag": event.subject_tag}


def _time(value):
    return timestamp(value) if value else None


def _text(value):
    return None if value is None else str(value)
