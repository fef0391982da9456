"""pg_trgm for the duplicate check's title similarity, on PostgreSQL only (SQLite falls back to
shared words)."""

from django.db import migrations


def create_extension(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm", params=None)


class Migration(migrations.Migration):
    dependencies = [("intake", "0004_exchange_rates")]

    operations = [migrations.RunPython(create_extension, migrations.RunPython.noop)]
