"""Events are written unsealed and chained afterwards by one sealer (audit.sealer, issue 28), so
that no writer waits for another's transaction. On PostgreSQL the append-only trigger now lets
exactly one change through: filling an unsealed event's seal (its place in the chain, its hashes,
when it was sealed), once, with every recorded field unchanged. Beat runs the sealer every ten
seconds as well, for whatever a publish after a commit did not reach."""

import json

from django.conf import settings
from django.db import migrations, models

SEAL_ONCE = """
CREATE OR REPLACE FUNCTION audit_event_refuse_change() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.sequence IS NULL AND NEW.sequence IS NOT NULL
       AND ROW(NEW.id, NEW.occurred_at, NEW.actor_id, NEW.on_behalf_of_id, NEW.content_type_id,
               NEW.object_id, NEW.kind, NEW.from_state, NEW.to_state, NEW.payload)
           IS NOT DISTINCT FROM
           ROW(OLD.id, OLD.occurred_at, OLD.actor_id, OLD.on_behalf_of_id, OLD.content_type_id,
               OLD.object_id, OLD.kind, OLD.from_state, OLD.to_state, OLD.payload)
    THEN
        RETURN NEW;  -- the seal, once: the recorded event itself stays as written
    END IF;
    RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
"""
REFUSE_ALL = """
CREATE OR REPLACE FUNCTION audit_event_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
"""
SCHEDULE = "Tandem: seal the audit chain"


def run_on_postgresql(sql):
    def operation(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return operation


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=10, period="seconds")
    PeriodicTask.objects.get_or_create(
        name=SCHEDULE,
        defaults={
            "task": "audit.tasks.seal_chain",
            "interval": every,
            "args": json.dumps([]),
            "queue": "audit",
        },
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=SCHEDULE).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0007_auditevent_links_name_their_subject"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="sealed_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(blank=True, default="", editable=False, max_length=64),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(blank=True, default="", editable=False, max_length=64),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="sequence",
            field=models.PositiveBigIntegerField(editable=False, null=True, unique=True),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(
                condition=models.Q(("sequence__isnull", True)),
                fields=["id"],
                name="audit_unsealed",
            ),
        ),
        migrations.RunPython(run_on_postgresql(SEAL_ONCE), run_on_postgresql(REFUSE_ALL)),
        migrations.RunPython(schedule, unschedule),
    ]
