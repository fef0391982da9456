"""The data version of the figures' cache (insights.selectors.data_version), on PostgreSQL: a
sequence that every statement writing a table the figures read moves on, under a shared
transaction-level advisory lock held until that write is visible."""

from django.db import migrations

# The tables the figures read: requests, steps, audit events (and their content types),
# categories, vendors, departments, contracts, certificates.
TABLES = [
    "intake_purchaserequest",
    "approvals_approvalstep",
    "audit_auditevent",
    "django_content_type",
    "intake_category",
    "vendors_vendor",
    "accounts_department",
    "vendors_contract",
    "vendors_certificate",
]
# The advisory lock is the pair ("insi" as an int, 1); the audit chain uses the bigint form.

CREATE = [
    "CREATE SEQUENCE insights_data_version",
    """
    CREATE FUNCTION insights_data_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_advisory_xact_lock_shared(1768846185, 1);
        PERFORM nextval('insights_data_version');
        RETURN NULL;
    END $$
    """,
    # The version first, then whether a writer is still in flight: a writer holds the lock
    # from before it moved the sequence until after its rows are visible, so when none holds
    # it every write the version counts is visible to a snapshot taken afterwards.
    """
    CREATE FUNCTION insights_data_version() RETURNS bigint LANGUAGE plpgsql AS $$
    DECLARE
        version bigint;
    BEGIN
        SELECT CASE WHEN is_called THEN last_value ELSE 0 END INTO version
        FROM insights_data_version;
        IF EXISTS (
            SELECT 1 FROM pg_locks
            WHERE locktype = 'advisory' AND classid = 1768846185 AND objid = 1
              AND objsubid = 2
              AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
        ) THEN
            RETURN NULL;
        END IF;
        RETURN version;
    END $$
    """,
    *(
        f"CREATE TRIGGER insights_data_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
        f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION insights_data_changed()"
        for table in TABLES
    ),
]
DROP = [
    *(f"DROP TRIGGER IF EXISTS insights_data_changed ON {table}" for table in TABLES),
    "DROP FUNCTION IF EXISTS insights_data_version()",
    "DROP FUNCTION IF EXISTS insights_data_changed()",
    "DROP SEQUENCE IF EXISTS insights_data_version",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return  # no cache elsewhere: the figures are computed on every read
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_time_zone_may_follow_the_team"),
        ("approvals", "0014_step_clock_resumed_from"),
        ("audit", "0006_checkpoint_schedule"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("intake", "0007_bounded_request_input"),
        ("vendors", "0007_contract_seats"),
    ]

    operations = [migrations.RunPython(_run(CREATE), _run(DROP))]
