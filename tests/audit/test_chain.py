"""The hash-chained audit trail (issue 18): every event has a gap-free sequence and a hash over
its content and the previous hash; `verify_audit` names the first broken link; daily signed
checkpoints catch a chain rewritten with recomputed hashes or cut short."""

import base64
import threading

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from approvals import workflow
from audit import services as audit_services
from audit.chain import verify_chain
from audit.models import AuditCheckpoint, AuditEvent
from audit.sealer import seal_pending
from audit.signing import generate_key
from audit.tasks import daily_checkpoint
from intake import services
from tandem_verify.chain import GENESIS_HASH, event_hash
from tests.factories import PurchaseRequestFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def signing_key(settings):
    private, public = generate_key()
    settings.TANDEM_AUDIT_SIGNING_KEY = private
    return public


@pytest.fixture
def trail(requester):
    purchase_request = PurchaseRequestFactory(requester=requester)
    for body in ("first", "second", "third", "fourth"):
        services.add_comment(purchase_request, by=requester, body=body)
    # After each commit the sealer chains them (audit.sealer); here the test's transaction
    # never commits, so it runs as the task would.
    assert seal_pending() == 4
    return list(AuditEvent.objects.order_by("sequence"))


def verify_audit():
    """Runs the command; returns (succeeded, what it said)."""
    from io import StringIO

    out = StringIO()
    try:
        call_command("verify_audit", stdout=out)
    except CommandError as error:
        return False, str(error)
    return True, out.getvalue()


def raw(sql, params=()):
    """Changes rows behind the application's back, as a database administrator could: on
    PostgreSQL with the append-only triggers switched off for the statement."""
    triggers = [
        ("audit_auditevent", "audit_event_append_only"),
        ("audit_auditcheckpoint", "audit_checkpoint_append_only"),
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The test's own inserts still have deferred foreign key checks pending.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for table, trigger in triggers:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            for table, trigger in triggers:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")


def test_events_form_a_gap_free_chain(trail):
    assert [e.sequence for e in trail] == [1, 2, 3, 4]
    assert trail[0].prev_hash == GENESIS_HASH
    for before, after in zip(trail, trail[1:], strict=False):
        assert after.prev_hash == before.hash
    assert len({e.hash for e in trail}) == 4
    ok, said = verify_audit()
    assert ok, said
    assert "intact: 4 event(s)" in said


def test_the_hash_covers_what_the_database_gives_back(requester):
    """Dates and decimals in the payload hash as the strings they are stored as."""
    from datetime import date
    from decimal import Decimal

    purchase_request = PurchaseRequestFactory(requester=requester)
    with transaction.atomic():
        audit_services.record_event(
            purchase_request,
            actor=requester,
            kind="probe",
            payload={"on": date(2026, 12, 1), "amount": Decimal("12.50"), "name": "Zoë"},
        )
    assert seal_pending() == 1
    assert verify_chain().intact


def test_a_row_changed_behind_the_applications_back_is_named(trail):
    raw(
        "UPDATE audit_auditevent SET payload = %s WHERE id = %s",
        ['{"body": "forged"}', trail[2].pk],
    )
    ok, said = verify_audit()
    assert not ok
    assert f"sequence 3 (event #{trail[2].pk})" in said
    assert "was changed" in said
    assert "2 event(s) before it are intact" in said


def test_a_changed_row_with_its_hash_recomputed_breaks_the_next_link(trail):
    forged = {
        "sequence": 2,
        "occurred_at": trail[1].occurred_at,
        "actor_id": trail[1].actor_id,
        "on_behalf_of_id": None,
        "content_type_id": trail[1].content_type_id,
        "object_id": trail[1].object_id,
        "kind": "commented",
        "from_state": "",
        "to_state": "",
        "payload": {"body": "forged"},
        "prev_hash": trail[1].prev_hash,
    }
    from audit.chain import record_of

    new_hash = event_hash(record_of(forged), trail[1].subject_tag)
    raw(
        "UPDATE audit_auditevent SET payload = %s, hash = %s WHERE id = %s",
        ['{"body": "forged"}', new_hash, trail[1].pk],
    )
    ok, said = verify_audit()
    assert not ok
    assert f"sequence 3 (event #{trail[2].pk})" in said
    assert "previous hash does not match" in said


def test_a_deleted_event_leaves_a_gap(trail):
    raw("DELETE FROM audit_auditevent WHERE id = %s", [trail[1].pk])
    ok, said = verify_audit()
    assert not ok
    assert "sequence 2" in said and "events are missing" in said


def test_a_signed_checkpoint_catches_a_chain_cut_short(trail, signing_key):
    audit_services.create_checkpoint()
    raw("DELETE FROM audit_auditevent WHERE id = %s", [trail[-1].pk])
    ok, said = verify_audit()
    assert not ok
    assert "names 4 events, the chain holds 3" in said


def test_a_signed_checkpoint_catches_a_chain_rewritten_with_new_hashes(trail, signing_key):
    audit_services.create_checkpoint()
    # A database administrator rewrites the whole chain consistently from event 2 on.
    previous = trail[0].hash
    for event in trail[1:]:
        row = {f: getattr(event, f) for f in ("occurred_at", "actor_id", "on_behalf_of_id")}
        row.update(
            sequence=event.sequence,
            content_type_id=event.content_type_id,
            object_id=event.object_id,
            kind=event.kind,
            from_state="",
            to_state="",
            payload={"body": "rewritten"},
            prev_hash=previous,
        )
        from audit.chain import record_of

        new_hash = event_hash(record_of(row), event.subject_tag)
        raw(
            "UPDATE audit_auditevent SET payload = %s, prev_hash = %s, hash = %s WHERE id = %s",
            ['{"body": "rewritten"}', previous, new_hash, event.pk],
        )
        previous = new_hash
    ok, said = verify_audit()
    assert not ok
    assert "differs from the signed checkpoint" in said


def test_a_forged_checkpoint_signature_is_refused(trail, signing_key):
    checkpoint, _ = audit_services.create_checkpoint()
    other_private, _ = generate_key()
    raw(
        "UPDATE audit_auditcheckpoint SET head_hash = %s WHERE id = %s",
        ["f" * 64, checkpoint.pk],
    )
    ok, said = verify_audit()
    assert not ok
    assert "signature" in said and "not valid" in said


def test_the_daily_checkpoint_is_signed_once_and_mailed_to_the_admins(
    trail, signing_key, admin_user
):
    UserFactory(username="retired-admin", is_superuser=True, is_active=False)
    assert daily_checkpoint.delay().get() == 4
    assert daily_checkpoint.delay().get() == 4  # a second run, or a second scheduler
    checkpoint = AuditCheckpoint.objects.get()
    assert (checkpoint.sequence, checkpoint.head_hash) == (4, trail[-1].hash)
    assert checkpoint.public_key == signing_key
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [admin_user.email]
    assert trail[-1].hash in message.body and checkpoint.signature in message.body
    ok, said = verify_audit()
    assert ok and "1 signed checkpoint(s) match" in said


def test_verify_audit_pins_the_public_key(trail, signing_key, settings):
    audit_services.create_checkpoint()
    _, other_public = generate_key()
    with pytest.raises(CommandError, match="signed with another key"):
        call_command("verify_audit", public_key=other_public)
    settings.TANDEM_AUDIT_SIGNING_KEY = generate_key()[0]  # the key was replaced
    ok, said = verify_audit()
    assert not ok and "signed with another key" in said
    call_command("verify_audit", public_key=signing_key)


def test_without_a_signing_key_no_checkpoint_is_made(trail, settings, admin_user):
    settings.TANDEM_AUDIT_SIGNING_KEY = ""
    assert daily_checkpoint.delay().get() is None
    assert not AuditCheckpoint.objects.exists()
    assert mail.outbox == []


def test_a_bad_signing_key_is_reported_not_crashed(settings):
    settings.TANDEM_AUDIT_SIGNING_KEY = base64.b64encode(b"short").decode()
    assert daily_checkpoint.delay().get() is None


def test_checkpoints_are_read_only_in_the_admin(client, admin_user, trail, signing_key):
    checkpoint, _ = audit_services.create_checkpoint()
    client.force_login(admin_user)
    assert client.get("/admin/audit/auditcheckpoint/").status_code == 200
    url = f"/admin/audit/auditcheckpoint/{checkpoint.pk}/delete/"
    assert client.post(url, {"post": "yes"}).status_code == 403


def test_audit_keygen_prints_a_usable_key(settings, trail):
    from io import StringIO

    out = StringIO()
    call_command("audit_keygen", stdout=out)
    line = next(x for x in out.getvalue().splitlines() if x.startswith("TANDEM_AUDIT_SIGNING_KEY="))
    settings.TANDEM_AUDIT_SIGNING_KEY = line.split("=", 1)[1]
    checkpoint, created = audit_services.create_checkpoint()
    assert created and checkpoint.sequence == 4


@pytest.mark.django_db(transaction=True)
def test_the_migration_chains_events_written_before_the_chain_existed(requester):
    executor = MigrationExecutor(connection)
    executor.migrate([("audit", "0002_refuse_changes_in_postgresql")])
    old_apps = executor.loader.project_state([("audit", "0002_refuse_changes_in_postgresql")]).apps
    OldEvent = old_apps.get_model("audit", "AuditEvent")
    ContentType = old_apps.get_model("contenttypes", "ContentType")
    user_type = ContentType.objects.get(app_label="accounts", model="user")
    for index in range(5):
        OldEvent.objects.create(
            content_type=user_type,
            object_id=requester.pk,
            actor_id=requester.pk,
            kind="legacy",
            payload={"index": index, "note": "ünïcode"},
        )
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert list(AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True)) == [
        1,
        2,
        3,
        4,
        5,
    ]
    assert verify_chain().intact
    # New events continue the backfilled chain.
    with transaction.atomic():
        audit_services.record_event(requester, actor=requester, kind="after")
    assert AuditEvent.objects.get(kind="after").sequence == 6
    assert verify_chain().intact


@pytest.mark.postgres
def test_postgresql_a_row_changed_with_the_trigger_switched_off_is_detected(trail):
    """What a database administrator could do: switch the append-only trigger off, change a
    row, switch it on again. The chain still tells."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the fixture's pending FK checks
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
        cursor.execute("UPDATE audit_auditevent SET kind = 'forged' WHERE id = %s", [trail[1].pk])
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")
        # The trigger is back on: the application still cannot change a row.
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            cursor.execute("UPDATE audit_auditevent SET kind = 'x' WHERE id = %s", [trail[1].pk])
    ok, said = verify_audit()
    assert not ok
    assert f"sequence 2 (event #{trail[1].pk})" in said and "was changed" in said


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgresql_eight_concurrent_writers_leave_an_intact_chain():
    writers = [UserFactory(username=f"writer{i}") for i in range(8)]
    requests = [PurchaseRequestFactory(requester=w) for w in writers]
    barrier = threading.Barrier(len(writers))
    errors = []

    def write(user, purchase_request):
        try:
            barrier.wait()
            for n in range(15):
                services.add_comment(purchase_request, by=user, body=f"{user.username} {n}")
        except Exception as error:  # noqa: BLE001 - asserted below
            errors.append(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=write, args=pair) for pair in zip(writers, requests, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    report = verify_chain()
    assert report.intact, report.broken
    assert report.checked == AuditEvent.objects.count() == 8 * 15
    sequences = list(AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True))
    assert sequences == list(range(1, 8 * 15 + 1))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_postgresql_a_vendor_decision_and_a_submit_naming_that_vendor_do_not_deadlock(
    requester, other_requester, it_reviewer, attempt
):
    """Submitting a request for a vendor under review locks the vendor after the submit's event;
    deciding the vendor's step locks the vendor before its event. Recording an event takes no
    lock (the sealer chains it after the commit), so neither waits on the other while holding
    what the other needs."""
    from approvals.models import StepState
    from approvals.services import decide_step
    from tests.factories import VendorFactory

    vendor = VendorFactory(status="prospective")
    workflow.submit_request(
        PurchaseRequestFactory(requester=requester, vendor=vendor), by=requester
    )
    step = vendor.steps.get(state=StepState.OPEN, side="it")
    second = PurchaseRequestFactory(requester=other_requester, vendor=vendor)
    barrier = threading.Barrier(2)
    outcomes = []

    def run(call):
        try:
            barrier.wait()
            outcomes.append(call())
        except Exception as error:  # noqa: BLE001 - asserted below
            outcomes.append(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(
            target=run, args=(lambda: decide_step(step, by=it_reviewer, decision="approve"),)
        ),
        threading.Thread(
            target=run, args=(lambda: workflow.submit_request(second, by=other_requester),)
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert verify_chain().intact


# Links name their subject (issue 27 item 13): what lets an evidence packet prove it is complete.


def test_each_link_names_its_subject_with_a_tag_of_its_own(trail, requester):
    from audit.chain import record_of_event
    from tandem_verify.chain import subject_key, subject_tag

    key = subject_key(record_of_event(trail[0]))
    assert [e.subject_tag for e in trail] == [subject_tag(key, e.sequence) for e in trail]
    assert len({e.subject_tag for e in trail}) == len(trail)  # unlinkable without the key
    other = PurchaseRequestFactory(requester=requester)
    services.add_comment(other, by=requester, body="another subject")
    seal_pending()
    event = AuditEvent.objects.for_object(other).get()
    other_key = subject_key(record_of_event(event))
    assert other_key != key and event.subject_tag == subject_tag(other_key, event.sequence)
    assert verify_audit()[0]


def test_an_event_moved_to_another_subject_with_its_hash_recomputed_is_named(trail, requester):
    """A database administrator moves an event to another request and recomputes its hash (and
    every later one): the link's tag still names the request it was recorded for."""
    from audit.chain import record_of, record_of_event

    other = PurchaseRequestFactory(requester=requester)
    moved = trail[2]
    previous = moved.prev_hash
    for event in trail[2:]:
        record = record_of_event(event)
        row = {
            "sequence": event.sequence,
            "occurred_at": event.occurred_at,
            "actor_id": event.actor_id,
            "on_behalf_of_id": event.on_behalf_of_id,
            "content_type_id": event.content_type_id,
            "object_id": other.pk if event == moved else event.object_id,
            "kind": event.kind,
            "from_state": "",
            "to_state": "",
            "payload": record["payload"],
            "prev_hash": previous,
        }
        new_hash = event_hash(record_of(row), event.subject_tag)
        raw(
            "UPDATE audit_auditevent SET object_id = %s, prev_hash = %s, hash = %s WHERE id = %s",
            [row["object_id"], previous, new_hash, event.pk],
        )
        previous = new_hash
    ok, said = verify_audit()
    assert not ok
    assert f"sequence 3 (event #{moved.pk}): its link does not name its subject" in said


def test_links_without_a_subject_after_tagged_ones_are_named(trail):
    """Tags cannot be stripped from the newer links (hashes recomputed without them)."""
    from audit.chain import record_of_event

    last = trail[-1]
    new_hash = event_hash(record_of_event(last))
    raw(
        "UPDATE audit_auditevent SET subject_tag = '', hash = %s WHERE id = %s",
        [new_hash, last.pk],
    )
    ok, said = verify_audit()
    assert not ok and "sequence 4" in said and "does not name its subject" in said
