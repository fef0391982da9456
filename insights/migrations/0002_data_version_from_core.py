"""The figures' data version made as every data version is (core.data_versions): the same
sequence, its triggers now calling the shared function. What 0001 created for it alone goes."""

import importlib

from django.db import migrations

from core.data_versions import DataVersion, run_on_postgresql

FIRST = importlib.import_module("insights.migrations.0001_data_version")
INSIGHTS_DATA = DataVersion(
    sequence="insights_data_version", lock_key=1, tables=tuple(FIRST.TABLES)
)
OWN = [
    *(f"DROP TRIGGER IF EXISTS insights_data_changed ON {table}" for table in FIRST.TABLES),
    "DROP FUNCTION IF EXISTS insights_data_version()",
    "DROP FUNCTION IF EXISTS insights_data_changed()",
]
BACK = [
    *(f"DROP TRIGGER IF EXISTS {INSIGHTS_DATA.sequence}_changed ON {t}" for t in FIRST.TABLES),
    *(s for s in FIRST.CREATE if not s.startswith("CREATE SEQUENCE")),
]


class Migration(migrations.Migration):
    dependencies = [
        ("insights", "0001_data_version"),
    ]

    operations = [
        migrations.RunPython(
            run_on_postgresql([*OWN, *INSIGHTS_DATA.create_sql()]), run_on_postgresql(BACK)
        )
    ]
