"""The audit trail is append-only (SPEC §8): nothing changes or removes an event, through the
ORM, the admin or the API. tests/audit/test_append_only.py covers save(), delete(), queryset
update() and delete(), the admin's change and delete pages, the events endpoint's methods and
PostgreSQL's trigger against raw SQL; these are the remaining paths."""

import pytest
from django.db import transaction

from approvals.models import ApprovalRule
from audit.models import AuditEvent, AuditEventImmutable
from intake import services
from tests.factories import PurchaseRequestFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def events(requester):
    purchase_request = PurchaseRequestFactory(requester=requester)
    services.add_comment(purchase_request, by=requester, body="first")
    services.add_comment(purchase_request, by=requester, body="second")
    return list(AuditEvent.objects.order_by("pk"))


def kinds(events):
    return [(event.pk, event.kind, event.payload) for event in events]


def test_bulk_update_and_update_or_create_are_refused(events):
    before = kinds(AuditEvent.objects.order_by("pk"))
    for event in events:
        event.kind = "forged"
    with pytest.raises(AuditEventImmutable), transaction.atomic():
        AuditEvent.objects.bulk_update(events, ["kind"])
    with pytest.raises(AuditEventImmutable), transaction.atomic():
        AuditEvent.objects.update_or_create(pk=events[0].pk, defaults={"kind": "forged"})
    with pytest.raises(AuditEventImmutable), transaction.atomic():
        AuditEvent.objects.select_for_update().filter(pk=events[0].pk).update(kind="forged")
    with pytest.raises(AuditEventImmutable), transaction.atomic():
        AuditEvent.objects.filter(pk__in=[e.pk for e in events]).delete()
    assert kinds(AuditEvent.objects.order_by("pk")) == before


def test_the_admin_offers_no_bulk_delete_and_refuses_it(client, admin_user, events):
    client.force_login(admin_user)
    changelist = client.get("/admin/audit/auditevent/")
    assert changelist.status_code == 200
    assert "delete_selected" not in changelist.content.decode()
    response = client.post(
        "/admin/audit/auditevent/",
        {
            "action": "delete_selected",
            "_selected_action": [e.pk for e in events],
            "post": "yes",
            "index": 0,
        },
    )
    assert response.status_code in (200, 302, 403)
    assert AuditEvent.objects.count() == len(events)


def test_the_admin_cannot_remove_events_by_deleting_the_person_who_acted(
    client, admin_user, requester, events
):
    client.force_login(admin_user)
    response = client.post(f"/admin/accounts/user/{requester.pk}/delete/", {"post": "yes"})
    assert response.status_code in (200, 403)  # "Cannot delete user": their events protect it
    assert type(requester).objects.filter(pk=requester.pk).exists()
    assert AuditEvent.objects.count() == len(events)


def test_the_admin_cannot_delete_a_request_and_so_leave_its_events_without_it(
    client, admin_user, events
):
    client.force_login(admin_user)
    request_pk = events[0].object_id
    response = client.post(f"/admin/intake/purchaserequest/{request_pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert AuditEvent.objects.filter(object_id=request_pk).count() == len(events)


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize(
    "path",
    [
        "/api/requests/{request}/events/",
        "/api/requests/{request}/events/{event}/",
        "/api/events/",
        "/api/events/{event}/",
        "/api/export/audit.csv",
    ],
)
def test_no_api_route_writes_events(api, admin_user, events, method, path):
    url = path.format(request=events[0].object_id, event=events[0].pk)
    response = getattr(api.as_user(admin_user), method)(url, {"kind": "forged"}, format="json")
    assert response.status_code in (404, 405), url
    assert kinds(AuditEvent.objects.order_by("pk")) == kinds(events)


def test_a_rule_deleted_through_the_api_leaves_its_event(api, admin_user):
    rule = ApprovalRule.objects.order_by("pk").first()
    response = api.as_user(admin_user).delete(f"/api/rules/{rule.pk}/")
    assert response.status_code == 204
    event = AuditEvent.objects.get(kind="rule_deleted")
    assert (event.object_id, event.actor, event.payload["name"]) == (rule.pk, admin_user, rule.name)


@pytest.mark.parametrize("how", ["delete page", "bulk action"])
def test_a_rule_deleted_through_the_admin_leaves_its_event(client, admin_user, how):
    rule = ApprovalRule.objects.order_by("pk").first()
    client.force_login(admin_user)
    if how == "delete page":
        client.post(f"/admin/approvals/approvalrule/{rule.pk}/delete/", {"post": "yes"})
    else:
        client.post(
            "/admin/approvals/approvalrule/",
            {"action": "delete_selected", "_selected_action": [rule.pk], "post": "yes"},
        )
    if ApprovalRule.objects.filter(pk=rule.pk).exists():
        return  # refused: nothing to record
    assert AuditEvent.objects.filter(kind="rule_deleted", object_id=rule.pk).exists()
