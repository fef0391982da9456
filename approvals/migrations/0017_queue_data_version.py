"""The queue's data version (approvals.queue_cache.QUEUE_DATA): a sequence that every statement
writing a table the "Waiting for me" page or `?awaiting=me` reads moves on (PostgreSQL only)."""

from django.db import migrations

from core.data_versions import DataVersion, run_on_postgresql

# As approvals.queue_cache.QUEUE_DATA was made; tests/approvals/test_queue_cache.py compares the
# triggers in the database with what the queue reads now.
QUEUE_DATA = DataVersion(
    sequence="queue_data_version",
    lock_key=2,
    tables=(
        "accounts_delegation",
        "accounts_department",
        "accounts_user",
        "accounts_user_groups",
        "approvals_approvalstep",
        "approvals_consultation",
        "auth_group",
        "budgets_renewal",
        "intake_category",
        "intake_purchaserequest",
        "notifications_notification",
        "vendors_contract",
        "vendors_vendor",
    ),
)


class Migration(migrations.Migration):
    dependencies = [
        ("approvals", "0016_steps_without_unused_fk_indexes"),
        ("accounts", "0006_time_zone_may_follow_the_team"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("budgets", "0002_renewal_schedule"),
        ("intake", "0007_bounded_request_input"),
        ("notifications", "0005_notification_action"),
        ("vendors", "0007_contract_seats"),
    ]

    operations = [
        migrations.RunPython(
            run_on_postgresql(QUEUE_DATA.create_sql()),
            run_on_postgresql(QUEUE_DATA.drop_sql()),
        ),
    ]
