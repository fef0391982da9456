"""The menu of every page asks whether the reader owns a budget (the Budgets link, issue 29), so
the kept "Waiting for me" page also reads `budgets_budget`: its writes move the queue's data
version on too (PostgreSQL only)."""

from django.db import migrations

from core.data_versions import DataVersion, run_on_postgresql

BUDGETS = DataVersion(sequence="queue_data_version", lock_key=2, tables=("budgets_budget",))


class Migration(migrations.Migration):
    dependencies = [
        ("approvals", "0022_group_automatic_assignment"),
        ("budgets", "0003_remove_old_contract_renewal_notice_task"),
    ]

    operations = [
        migrations.RunPython(
            run_on_postgresql(BUDGETS.create_sql()),
            run_on_postgresql(
                [
                    f"DROP TRIGGER IF EXISTS queue_data_version_changed ON {t}"
                    for t in BUDGETS.tables
                ]
            ),
        ),
    ]
