"""Data versions (PostgreSQL): a number that moves on with every statement writing any of a set
of tables, so that what was worked out from those tables can be kept under the number and
reused, exactly, until one of them is written.

Each version is a sequence that a statement trigger on each of its tables moves on, under a
shared transaction-level advisory lock held until the write is visible; reading the version
answers None while such a write is still uncommitted (the caller then works things out afresh
and keeps nothing). Read the version first, then the data: in READ COMMITTED every later
statement sees at least the writes the version counts, so what is kept under a version is never
older than it. Used by the insights' figures (lock key 1) and the reviewer's queue (2)."""

from dataclasses import dataclass

# The advisory locks are the pairs (LOCK_CLASS, version.lock_key): "insi" as an int, for the
# insights' version came first.
LOCK_CLASS = 1768846185

FUNCTIONS = [
    f"""
    CREATE OR REPLACE FUNCTION tandem_data_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_advisory_xact_lock_shared({LOCK_CLASS}, TG_ARGV[1]::int);
        PERFORM nextval(TG_ARGV[0]::regclass);
        RETURN NULL;
    END $$
    """,
    # The version first, then whether a writer is still in flight: a writer holds the lock from
    # before it moved the sequence until after its rows are visible.
    f"""
    CREATE OR REPLACE FUNCTION tandem_data_version(sequence_name text, lock_key int)
    RETURNS bigint LANGUAGE plpgsql AS $$
    DECLARE
        version bigint;
    BEGIN
        EXECUTE format(
            'SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM %I', sequence_name
        ) INTO version;
        IF EXISTS (
            SELECT 1 FROM pg_locks
            WHERE locktype = 'advisory' AND classid = {LOCK_CLASS} AND objid = lock_key
              AND objsubid = 2
              AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
        ) THEN
            RETURN NULL;
        END IF;
        RETURN version;
    END $$
    """,  # noqa: S608 (a constant of this module, no input)
]


@dataclass(frozen=True)
class DataVersion:
    sequence: str
    lock_key: int
    tables: tuple[str, ...]

    def _trigger(self) -> str:
        return f"{self.sequence}_changed"

    def create_sql(self) -> list[str]:
        """For a migration's RunPython on PostgreSQL (see `run_on_postgresql`)."""
        return [
            *FUNCTIONS,
            f"CREATE SEQUENCE IF NOT EXISTS {self.sequence}",
            *(
                f"CREATE TRIGGER {self._trigger()} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION "
                f"tandem_data_changed('{self.sequence}', '{self.lock_key}')"
                for table in self.tables
            ),
        ]

    def drop_sql(self) -> list[str]:
        return [
            *(f"DROP TRIGGER IF EXISTS {self._trigger()} ON {table}" for table in self.tables),
            f"DROP SEQUENCE IF EXISTS {self.sequence}",
        ]

    def current(self, connection) -> tuple[int, int] | None:
        """The version now, after the database's own id: a database dropped and created again
        under the same name starts its sequence anew, and must not find what was kept under
        the old one's numbers (in a cache shared by processes that outlive it, CACHE_URL).
        None on another database, inside a transaction (its snapshot may be older than the
        version) or while a write it counts is uncommitted."""
        if connection.vendor != "postgresql" or connection.in_atomic_block:
            return None
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT tandem_data_version(%s, %s), "
                "(SELECT oid FROM pg_database WHERE datname = current_database())",
                [self.sequence, self.lock_key],
            )
            version, database = cursor.fetchone()
        return None if version is None else (database, version)


def run_on_postgresql(statements: list[str]):
    """A RunPython function running `statements` on PostgreSQL only (no version elsewhere)."""

    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement, params=None)

    return run
