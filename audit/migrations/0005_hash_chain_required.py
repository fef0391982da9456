"""Every event now has its place in the chain: the sequence becomes required and unique (two
appends can never take the same place), and checkpoints are append-only in PostgreSQL too."""

from django.db import migrations, models

CREATE = """
CREATE TRIGGER audit_checkpoint_append_only
    BEFORE UPDATE OR DELETE ON audit_auditcheckpoint
    FOR EACH ROW EXECUTE FUNCTION audit_event_refuse_change();
"""
DROP = "DROP TRIGGER IF EXISTS audit_checkpoint_append_only ON audit_auditcheckpoint;"


def run_on_postgresql(sql):
    def operation(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return operation


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_backfill_hash_chain")]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="sequence",
            field=models.PositiveBigIntegerField(editable=False, unique=True),
        ),
        migrations.RunPython(run_on_postgresql(CREATE), run_on_postgresql(DROP)),
    ]
