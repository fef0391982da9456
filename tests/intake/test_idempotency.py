"""`Idempotency-Key` on mark-ordered (issue 18 §4): a retried call records the PO once."""

import threading

import pytest
from django.db import connection

from approvals import workflow
from approvals.services import decide_step
from audit.models import AuditEvent
from intake.models import State
from tests.factories import PurchaseRequestFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def approved(requester, it_reviewer, procurement):
    purchase_request = workflow.submit_request(
        PurchaseRequestFactory(requester=requester), by=requester
    )
    for step in purchase_request.steps.filter(stage=1):
        decide_step(step, by=it_reviewer if step.side == "it" else procurement, decision="approve")
    return purchase_request


def mark(api, purchase_request, po="PO-1", key="order-1"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return api.post(
        f"/api/requests/{purchase_request.pk}/mark-ordered/",
        {"po_number": po, "ordered_on": "2026-12-01"},
        format="json",
        **headers,
    )


def test_a_retried_call_records_the_po_once(api, approved, procurement):
    api.as_user(procurement)
    first = mark(api, approved)
    assert first.status_code == 200 and first.json()["po_number"] == "PO-1"
    again = mark(api, approved)
    assert again.status_code == 200 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert AuditEvent.objects.for_object(approved).filter(kind="mark_ordered").count() == 1


def test_without_a_key_the_second_call_is_409(api, approved, procurement):
    api.as_user(procurement)
    assert mark(api, approved, key=None).status_code == 200
    assert mark(api, approved, key=None).status_code == 409


def test_the_same_key_for_another_call_is_422(api, approved, procurement):
    api.as_user(procurement)
    assert mark(api, approved).status_code == 200
    response = mark(api, approved, po="PO-2")
    assert response.status_code == 422 and "already used" in response.json()["detail"]
    approved.refresh_from_db()
    assert approved.po_number == "PO-1"


def test_a_failed_call_does_not_use_up_the_key(api, approved, procurement, requester):
    assert mark(api.as_user(requester), approved).status_code == 403  # not procurement
    assert mark(api.as_user(procurement), approved).status_code == 200


def test_a_bad_key_is_400(api, approved, procurement):
    response = mark(api.as_user(procurement), approved, key="x" * 300)
    assert response.status_code == 400 and "Idempotency-Key" in response.json()


def test_the_schema_documents_the_header(api, admin_user):
    schema = api.as_user(admin_user).get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/requests/{id}/mark-ordered/"]["post"]
    assert "Idempotency-Key" in [p["name"] for p in operation["parameters"]]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgresql_two_calls_with_one_key_at_once_record_one_po(approved, procurement):
    from rest_framework.test import APIClient

    results = []
    barrier = threading.Barrier(2)

    def call():
        client = APIClient()
        client.force_authenticate(procurement)
        try:
            barrier.wait()
            results.append(mark(client, approved).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [200, 200]
    approved.refresh_from_db()
    assert approved.state == State.ORDERED
    assert AuditEvent.objects.for_object(approved).filter(kind="mark_ordered").count() == 1
