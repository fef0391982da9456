"""Writers do not queue behind each other (issue 28 item 3): an event is written unsealed, without
any lock, and the sealer chains it after the commit, in the order it seals. The chain, its
checkpoints and `verify_audit` promise what they promised before."""

import threading
import time

import pytest
from django.db import DatabaseError, connection, transaction

from audit import sealer
from audit.chain import verify_chain
from audit.models import AuditEvent
from audit.services import record_event
from intake import services
from tests.factories import PurchaseRequestFactory

pytestmark = pytest.mark.django_db


def test_an_event_is_written_unsealed_and_the_sealer_chains_it_once(requester):
    purchase_request = PurchaseRequestFactory(requester=requester)
    services.add_comment(purchase_request, by=requester, body="first")
    services.add_comment(purchase_request, by=requester, body="second")
    written = list(AuditEvent.objects.order_by("id"))
    assert [(e.sequence, e.hash, e.sealed_at) for e in written] == [(None, "", None)] * 2
    assert sealer.unsealed()[0] == 2

    assert sealer.seal_pending() == 2
    sealed = list(AuditEvent.objects.order_by("id"))
    assert [e.sequence for e in sealed] == [1, 2]
    assert sealed[1].prev_hash == sealed[0].hash and all(e.sealed_at for e in sealed)
    delays = sealer.seal_delays()
    assert len(delays) == 2 and delays == sorted(delays) and delays[0] >= 0
    assert sealer.seal_delays(since_id=sealed[1].pk) == []
    assert sealer.seal_pending() == 0  # nothing is sealed twice
    assert verify_chain().intact and verify_chain().checked == 2


def test_the_sealer_works_in_batches_and_continues_the_chain(requester):
    purchase_request = PurchaseRequestFactory(requester=requester)
    for n in range(5):
        services.add_comment(purchase_request, by=requester, body=f"comment {n}")
    assert sealer.seal_pending(batch=2) == 5
    services.add_comment(purchase_request, by=requester, body="later")
    assert sealer.seal_pending(batch=2) == 1
    assert list(AuditEvent.objects.order_by("id").values_list("sequence", flat=True)) == [
        1, 2, 3, 4, 5, 6
    ]  # fmt: skip
    assert verify_chain().intact


def test_a_transaction_asks_for_one_seal_however_many_events_it_records(requester):
    purchase_request = PurchaseRequestFactory(requester=requester)
    with transaction.atomic():
        for n in range(3):
            record_event(purchase_request, actor=requester, kind="probe", payload={"n": n})
        asked = [c for _, c, _ in connection.run_on_commit if c is sealer._request_seal]
        assert len(asked) == 1


@pytest.mark.django_db(transaction=True)
def test_after_the_commit_the_seal_task_chains_what_was_written(requester):
    """The task is sent after the commit (run at once here: the tests' Celery is eager)."""
    purchase_request = PurchaseRequestFactory(requester=requester)
    services.add_comment(purchase_request, by=requester, body="sealed after its commit")
    event = AuditEvent.objects.get(kind="commented")
    assert event.sequence == AuditEvent.objects.exclude(pk=event.pk).count() + 1
    assert event.sealed_at >= event.occurred_at
    assert sealer.unsealed()[0] == 0 and verify_chain().intact


def test_a_rolled_back_transaction_leaves_nothing_to_seal(requester):
    purchase_request = PurchaseRequestFactory(requester=requester)
    with pytest.raises(RuntimeError), transaction.atomic():
        record_event(purchase_request, actor=requester, kind="probe")
        raise RuntimeError("the change failed")
    assert sealer.seal_pending() == 0 and not AuditEvent.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgresql_a_writer_does_not_wait_for_another_writers_open_transaction(
    requester, other_requester
):
    """A transaction that recorded an event and stays open (a slow request) holds nobody up:
    another writer records and commits at once, and the sealer chains that one meanwhile. The
    slow one is chained after its own commit, later in the chain than the fast one."""
    slow_request = PurchaseRequestFactory(requester=requester)
    fast_request = PurchaseRequestFactory(requester=other_requester)
    recorded, release, errors = threading.Event(), threading.Event(), []

    def slow_writer():
        try:
            with transaction.atomic():
                record_event(slow_request, actor=requester, kind="slow")
                recorded.set()
                assert release.wait(timeout=30)
        except Exception as error:  # noqa: BLE001 - asserted below
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    try:
        assert recorded.wait(timeout=10)
        started = time.monotonic()
        services.add_comment(fast_request, by=other_requester, body="not held up")
        took = time.monotonic() - started
        assert took < 1, f"the second writer waited {took:.1f}s for the first"
        sealer.seal_pending()
        fast = AuditEvent.objects.get(kind="commented")
        assert fast.sequence is not None, "sealed while the slow transaction is still open"
    finally:
        release.set()
        thread.join()
    assert errors == []
    sealer.seal_pending()
    slow = AuditEvent.objects.get(kind="slow")
    assert slow.pk < fast.pk and slow.sequence > fast.sequence
    assert verify_chain().intact


@pytest.mark.postgres
def test_postgresql_the_database_allows_a_seal_once_and_nothing_else(requester):
    purchase_request = PurchaseRequestFactory(requester=requester)
    services.add_comment(purchase_request, by=requester, body="to be sealed")
    event = AuditEvent.objects.get()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's pending FK checks
        # Sealing and changing what was recorded at once is refused.
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            cursor.execute(
                "UPDATE audit_auditevent SET sequence = 1, hash = 'x', kind = 'forged' "
                "WHERE id = %s",
                [event.pk],
            )
    assert sealer.seal_pending() == 1
    with connection.cursor() as cursor:
        # A sealed event is never sealed again.
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            cursor.execute(
                "UPDATE audit_auditevent SET sequence = 7, hash = 'x' WHERE id = %s", [event.pk]
            )
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])
    assert verify_chain().intact


def test_waiting_events_are_counted_and_verify_audit_fails_once_past_the_bound(requester):
    from datetime import timedelta
    from io import StringIO

    import time_machine
    from django.core.management import CommandError, call_command
    from django.utils import timezone

    written = timezone.now()
    with time_machine.travel(written, tick=False):
        services.add_comment(PurchaseRequestFactory(requester=requester), by=requester, body="x")
    assert sealer.unsealed() == (1, AuditEvent.objects.get().occurred_at)
    with time_machine.travel(written + timedelta(seconds=30), tick=False):
        out = StringIO()
        call_command("verify_audit", stdout=out)
        assert "1 newer event(s) wait for their seal" in out.getvalue()
    with time_machine.travel(written + sealer.SEAL_BOUND + timedelta(seconds=1), tick=False):
        assert not sealer.sealing_ok()
        with pytest.raises(CommandError, match="is a worker taking the 'audit' queue"):
            call_command("verify_audit", stdout=StringIO())
    sealer.seal_pending()
    assert sealer.unsealed() == (0, None) and sealer.sealing_ok()
