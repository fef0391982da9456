from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from .models import AuditEvent


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
    so that the change and its evidence commit or roll back together."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_event must be called inside the transaction of its change")
    return AuditEvent.objects.create(
        content_type=ContentType.objects.get_for_model(subject),
        object_id=subject.pk,
        actor=actor,
        on_behalf_of=on_behalf_of,
        kind=kind,
        from_state=from_state,
        to_state=to_state,
        payload=payload or {},
    )
