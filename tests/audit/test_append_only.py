import pytest
from django.db import DatabaseError, connection, transaction

from audit.models import AuditEvent, AuditEventImmutable
from audit.services import record_event
from intake import services
from tests.factories import PurchaseRequestFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(requester):
    services.add_comment(PurchaseRequestFactory(requester=requester), by=requester, body="x")
    return AuditEvent.objects.get()


def test_an_event_cannot_be_updated(event):
    event.kind = "forged"
    with pytest.raises(AuditEventImmutable):
        event.save()
    with pytest.raises(AuditEventImmutable):
        AuditEvent.objects.filter(pk=event.pk).update(kind="forged")
    assert AuditEvent.objects.get(pk=event.pk).kind == "commented"


def test_an_event_cannot_be_deleted(event):
    with pytest.raises(AuditEventImmutable):
        event.delete()
    with pytest.raises(AuditEventImmutable):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_events_are_written_only_inside_the_changes_transaction(requester):
    with pytest.raises(RuntimeError, match="inside the transaction"):
        # Outside any atomic block (pytest-django wraps tests in one, so leave it explicitly).
        connection.in_atomic_block, saved = False, connection.in_atomic_block
        try:
            record_event(requester, actor=requester, kind="x")
        finally:
            connection.in_atomic_block = saved


@pytest.mark.postgres
def test_postgresql_refuses_raw_updates_and_deletes(event):
    for statement in (
        "UPDATE audit_auditevent SET kind = 'forged'",
        "DELETE FROM audit_auditevent",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    assert AuditEvent.objects.get(pk=event.pk).kind == "commented"


def test_admin_is_read_only(client, admin_user, event):
    client.force_login(admin_user)
    assert client.get(f"/admin/audit/auditevent/{event.pk}/change/").status_code == 200
    response = client.post(f"/admin/audit/auditevent/{event.pk}/change/", {"kind": "forged"})
    assert response.status_code == 403
    assert (
        client.post(f"/admin/audit/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert client.get("/admin/audit/auditevent/add/").status_code == 403
    assert AuditEvent.objects.get(pk=event.pk).kind == "commented"


def test_api_offers_no_way_to_change_events(api, requester, event):
    url = f"/api/requests/{event.object_id}/events/"
    api.as_user(requester)
    assert api.get(url).status_code == 200
    for method in (api.post, api.put, api.patch, api.delete):
        assert method(url, {"kind": "forged"}, format="json").status_code == 405
