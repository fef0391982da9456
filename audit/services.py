import json
from dataclasses import dataclass
from datetime import UTC

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.mail import EmailMessage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from core.policies import ADMINS

from .chain import chain_head, lock_chain_head
from .models import AuditCheckpoint, AuditEvent
from .sealer import seal_pending, seal_soon
from .signing import as_dict, sign_checkpoint

# Called with (event, subject) after each append, inside the same transaction: how apps that may
# not import the writers (webhooks) follow what happens. Registered in their AppConfig.ready().
_listeners = []


def add_listener(listener) -> None:
    """Registers `listener(event, subject)`, called in the transaction of every new event."""
    if listener not in _listeners:
        _listeners.append(listener)


def record_event(
    subject,
    *,
    actor,
    kind: str,
    from_state: str = "",
    to_state: str = "",
    payload: dict | None = None,
    on_behalf_of=None,
) -> AuditEvent:
    """Appends an event about `subject`. Must run inside the transaction of the change it records,
    so that the change and its evidence commit or roll back together. The event is written
    unsealed, without any lock; after the commit the sealer gives it the next place in the chain
    (audit.sealer), so writers never wait for each other and the chain never forks."""
    entry = NewEvent(subject, kind, actor, from_state, to_state, payload, on_behalf_of)
    return _append([entry], bulk=False)[0]


@dataclass(frozen=True)
class NewEvent:
    """One event for `record_events`: what `record_event` takes, as a value."""

    subject: object
    kind: str
    actor: object = None
    from_state: str = ""
    to_state: str = ""
    payload: dict | None = None
    on_behalf_of: object = None


def record_events(entries: list[NewEvent]) -> list[AuditEvent]:
    """Appends many events at once, in the order given, in one INSERT: for the sweeps, which
    record a thousand reminders in one transaction. The same rules as `record_event`."""
    return _append(entries, bulk=True) if entries else []


def _append(entries: list[NewEvent], *, bulk: bool) -> list[AuditEvent]:
    """Writes the events unsealed, taking no lock: the sealer chains them after the commit
    (`sealer.seal_soon`)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_event must be called inside the transaction of its change")
    occurred_at = timezone.now()
    events = [
        AuditEvent(
            occurred_at=occurred_at,
            content_type=ContentType.objects.get_for_model(entry.subject),
            object_id=entry.subject.pk,
            actor=entry.actor,
            on_behalf_of=entry.on_behalf_of,
            kind=entry.kind,
            from_state=entry.from_state,
            to_state=entry.to_state,
            # As the database gives it back (dates and decimals as strings), which the sealer
            # hashes and the verifier recomputes.
            payload=json.loads(json.dumps(entry.payload or {}, cls=DjangoJSONEncoder)),
        )
        for entry in entries
    ]
    if bulk:
        AuditEvent.objects.bulk_create(events)
    else:
        events[0].save()
    for event, entry in zip(events, entries, strict=True):
        for listener in _listeners:
            listener(event, entry.subject)
    seal_soon()
    return events


def create_checkpoint(*, now=None) -> tuple[AuditCheckpoint, bool]:
    """Today's signed checkpoint of the chain, made once per day (UTC): (checkpoint, created).
    What waits for its seal is sealed first; then, under the chain's lock, the head it names is
    a head the chain really had. A second scheduler finds the day's checkpoint and makes none."""
    now = now or timezone.now()
    day = now.astimezone(UTC).date()
    seal_pending()
    with transaction.atomic(durable=True):
        lock_chain_head()
        existing = AuditCheckpoint.objects.filter(day=day).first()
        if existing:
            return existing, False
        sequence, head_hash = chain_head()
        checkpoint = sign_checkpoint(day=day, sequence=sequence, head_hash=head_hash, signed_at=now)
        try:
            with transaction.atomic():
                checkpoint.save()
        except IntegrityError:  # made at the same moment elsewhere (SQLite has no advisory lock)
            return AuditCheckpoint.objects.get(day=day), False
    return checkpoint, True


def mail_checkpoint(checkpoint: AuditCheckpoint) -> int:
    """Sends the checkpoint to the admins (`core.policies.ADMINS` with an e-mail address, and
    settings.ADMINS): a copy outside Tandem's database that a rewrite of the chain cannot reach.
    Returns how many addresses it went to."""
    User = get_user_model()
    addresses = set(User.objects.filter(ADMINS).exclude(email="").values_list("email", flat=True))
    addresses.update(email for _, email in settings.ADMINS)
    if not addresses:
        return 0
    data = as_dict(checkpoint)
    context = {"checkpoint": checkpoint, "data": data, "json": json.dumps(data, indent=2)}
    message = EmailMessage(
        subject=f"Tandem audit checkpoint {checkpoint.day}: {checkpoint.sequence} events",
        body=render_to_string("audit/email/checkpoint.txt", context),
        to=sorted(addresses),
    )
    message.send()
    return len(addresses)
