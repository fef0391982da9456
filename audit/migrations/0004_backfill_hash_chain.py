"""Chains the events written before the hash chain existed, in the order they were written (id
order), with the same rules as every later append (tandem_verify.chain). On PostgreSQL the
append-only trigger is switched off for this one migration and on again at its end."""

from django.db import migrations

from tandem_verify.chain import GENESIS_HASH, event_hash, timestamp

DISABLE = "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only"
ENABLE = "ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only"


def backfill(apps, schema_editor):
    AuditEvent = apps.get_model("audit", "AuditEvent")
    ContentType = apps.get_model("contenttypes", "ContentType")
    labels = {ct.pk: f"{ct.app_label}.{ct.model}" for ct in ContentType.objects.all()}
    postgresql = schema_editor.connection.vendor == "postgresql"
    if postgresql:
        schema_editor.execute(DISABLE)
    previous_hash, sequence, last_id = GENESIS_HASH, 0, 0
    while True:
        events = list(AuditEvent.objects.filter(pk__gt=last_id).order_by("pk")[:2000])
        if not events:
            break
        for event in events:
            sequence += 1
            event.sequence, event.prev_hash = sequence, previous_hash
            event.hash = event_hash(
                {
                    "sequence": sequence,
                    "occurred_at": timestamp(event.occurred_at),
                    "actor": event.actor_id,
                    "on_behalf_of": event.on_behalf_of_id,
                    "subject": labels[event.content_type_id],
                    "object_id": event.object_id,
                    "kind": event.kind,
                    "from_state": event.from_state,
                    "to_state": event.to_state,
                    "payload": event.payload,
                    "prev_hash": previous_hash,
                }
            )
            previous_hash = event.hash
        AuditEvent.objects.bulk_update(events, ["sequence", "prev_hash", "hash"])
        last_id = events[-1].pk
    if postgresql:
        schema_editor.execute(ENABLE)


def unchain(apps, schema_editor):
    """Going back empties the chain's columns (0003's reverse then drops them)."""
    postgresql = schema_editor.connection.vendor == "postgresql"
    if postgresql:
        schema_editor.execute(DISABLE)
    apps.get_model("audit", "AuditEvent").objects.update(sequence=None, prev_hash="", hash="")
    if postgresql:
        schema_editor.execute(ENABLE)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0003_hash_chain_fields"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(backfill, unchain)]
