"""Backup and restore (issue 20), as docs/operate/backups.md tells an operator: bin/backup
dumps the database and archives the uploaded files, bin/restore brings them back into a fresh
database and folder, where the same requests, steps, audit events and files are found."""

import os
import subprocess
import urllib.parse
from pathlib import Path

import psycopg2
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import get_commands
from django.db import connection

from approvals import workflow
from approvals.models import StepState
from approvals.services import decide_step
from intake import services as intake_services
from tests.factories import PurchaseRequestFactory
from tests.integration.shape import _admin_connection, _server_url

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BASE_DIR = Path(__file__).resolve().parents[2]
PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
SNAPSHOT = {
    "requests": "SELECT id, number, state, title, total_cost FROM intake_purchaserequest",
    "steps": (
        "SELECT id, request_id, side, state, decided_by_id, comment FROM approvals_approvalstep"
    ),
    "audit events": (
        "SELECT id, kind, content_type_id, object_id, actor_id, from_state, to_state,"
        " payload::text, occurred_at FROM audit_auditevent"
    ),
    "attachments": "SELECT id, request_id, file, size FROM intake_attachment",
    "users": "SELECT id, username, password FROM accounts_user",
}


def _snapshot(cursor) -> dict:
    rows = {}
    for name, query in SNAPSHOT.items():
        cursor.execute(f"{query} ORDER BY 1")
        rows[name] = cursor.fetchall()
    return rows


def _url(name: str) -> str:
    return urllib.parse.urlsplit(_server_url())._replace(path=f"/{name}").geturl()


def _run(*args, **variables):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "settings.test",
        "PYTHON": str(BASE_DIR / ".venv" / "bin" / "python"),
        **variables,
    }
    return subprocess.run(  # noqa: S603 - fixed arguments
        [str(BASE_DIR / "bin" / args[0]), *args[1:]],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.fixture
def restore_database():
    name = f"tandem_restore_{os.getpid()}"
    admin = _admin_connection()
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture
def workload(requester, it_reviewer, procurement, settings):
    """Requests in several states, decided steps, comments, an attachment: audit events."""
    draft = PurchaseRequestFactory(requester=requester, title="Laptops for the new hires")
    intake_services.add_attachment(
        draft, by=requester, uploaded_file=SimpleUploadedFile("quote.pdf", PDF)
    )
    decided = workflow.submit_request(PurchaseRequestFactory(requester=requester), by=requester)
    for step in decided.steps.filter(state=StepState.OPEN):
        reviewer = it_reviewer if step.side == "it" else procurement
        decide_step(step, by=reviewer, decision="approve", comment="Fine by us.")
    workflow.submit_request(PurchaseRequestFactory(requester=requester), by=requester)
    return Path(settings.MEDIA_ROOT)


def test_a_backup_restores_into_a_fresh_database_with_every_request_step_and_event(
    workload, restore_database, tmp_path
):
    media = workload
    with connection.cursor() as cursor:
        original = _snapshot(cursor)
    assert len(original["requests"]) == 3
    assert any(state == StepState.APPROVED for *_, state, _, _ in original["steps"])
    assert len(original["audit events"]) >= 5
    [(_, _, attachment_name, _)] = original["attachments"]
    assert (media / attachment_name).read_bytes() == PDF

    backup = _run(
        "backup",
        str(tmp_path / "backups"),
        DATABASE_URL=_url(connection.settings_dict["NAME"]),
        MEDIA_ROOT=str(media),
    )
    assert backup.returncode == 0, backup.stderr
    folder = Path(backup.stdout.strip())
    assert sorted(p.name for p in folder.iterdir()) == [
        "SHA256SUMS",
        "database.dump",
        "media.tar.gz",
    ]

    restored_media = tmp_path / "restored-media"
    restore = _run(
        "restore", str(folder), DATABASE_URL=_url(restore_database), MEDIA_ROOT=str(restored_media)
    )
    assert restore.returncode == 0, restore.stderr + restore.stdout
    assert f"restored {folder}" in restore.stdout

    with psycopg2.connect(_url(restore_database)) as restored, restored.cursor() as cursor:
        assert _snapshot(cursor) == original
        # The audit trail stays append-only in the restored database (its trigger came back).
        cursor.execute(
            "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'audit_auditevent'::regclass"
        )
        assert cursor.fetchone()[0] >= 1
    restored.close()
    assert (restored_media / attachment_name).read_bytes() == PDF

    if "verify_audit" in get_commands():
        # bin/restore ran it; it printed its verdict and exited 0 (checked above).
        assert restore.stdout.strip()
    # Without the audit chain in this branch bin/restore skips verify_audit (a hook, see
    # bin/restore); once it exists, the restore fails unless the chain verifies.


def test_restore_refuses_a_database_that_is_not_empty(workload, tmp_path):
    backup = _run(
        "backup",
        str(tmp_path / "backups"),
        DATABASE_URL=_url(connection.settings_dict["NAME"]),
        MEDIA_ROOT=str(workload),
    )
    assert backup.returncode == 0, backup.stderr
    restore = _run(
        "restore",
        backup.stdout.strip(),
        DATABASE_URL=_url(connection.settings_dict["NAME"]),
        MEDIA_ROOT=str(tmp_path / "elsewhere"),
    )
    assert restore.returncode == 1
    assert "restore into a new, empty one" in restore.stderr


def test_restore_refuses_a_damaged_backup(workload, restore_database, tmp_path):
    backup = _run(
        "backup",
        str(tmp_path / "backups"),
        DATABASE_URL=_url(connection.settings_dict["NAME"]),
        MEDIA_ROOT=str(workload),
    )
    folder = Path(backup.stdout.strip())
    dump = folder / "database.dump"
    dump.write_bytes(dump.read_bytes()[:-100])
    restore = _run(
        "restore", str(folder), DATABASE_URL=_url(restore_database), MEDIA_ROOT=str(tmp_path / "m")
    )
    assert restore.returncode == 1
    assert "damaged" in restore.stderr
    with psycopg2.connect(_url(restore_database)) as restored, restored.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        assert cursor.fetchone()[0] == 0
    restored.close()
