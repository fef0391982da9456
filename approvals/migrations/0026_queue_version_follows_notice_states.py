"""The bell of the kept "Waiting for me" page counts the reader's groups' notices too, read or
not by them (notifications' `NoticeState`): its writes move the queue's data version on too
(PostgreSQL only)."""

from django.db import migrations

from core.data_versions import DataVersion, run_on_postgresql

NOTICE_STATES = DataVersion(
    sequence="queue_data_version", lock_key=2, tables=("notifications_noticestate",)
)


class Migration(migrations.Migration):
    dependencies = [
        ("approvals", "0025_first_rules_version"),
        ("notifications", "0010_group_notices"),
    ]

    operations = [
        migrations.RunPython(
            run_on_postgresql(NOTICE_STATES.create_sql()),
            run_on_postgresql(
                [
                    f"DROP TRIGGER IF EXISTS queue_data_version_changed ON {t}"
                    for t in NOTICE_STATES.tables
                ]
            ),
        ),
    ]
