"""Outbound webhooks (issue 18): Standard Webhooks signatures verified by a real receiver with
the specification's library; each event once per endpoint, also across an outage; backoff with
jitter for about three days; 410 disables; replay; private addresses refused."""

import random
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from approvals import workflow
from approvals.services import decide_step
from audit.models import AuditEvent
from tests.factories import PurchaseRequestFactory
from tests.webhooks.receiver import Receiver
from webhooks import services
from webhooks.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookMessage,
    new_secret,
)

# Real commits: deliveries start after the cause commits (transaction.on_commit).
pytestmark = pytest.mark.django_db(transaction=True)

ALL = [
    "request.submitted",
    "step.decided",
    "request.approved",
    "request.rejected",
    "request.ordered",
    "request.closed",
    "vendor.approved",
]


@pytest.fixture
def allow_loopback(settings):
    settings.TANDEM_WEBHOOKS_ALLOW_PRIVATE = True


@pytest.fixture
def receiver(allow_loopback):
    secret = new_secret()
    receiver = Receiver(secret).start()
    receiver.endpoint = WebhookEndpoint.objects.create(
        url=receiver.url, secret=secret, event_types=ALL
    )
    yield receiver
    if receiver._server:
        receiver.stop()


def approve_and_order(requester, it_reviewer, procurement):
    purchase_request = workflow.submit_request(
        PurchaseRequestFactory(requester=requester), by=requester
    )
    for step in purchase_request.steps.filter(stage=1):
        decide_step(step, by=it_reviewer if step.side == "it" else procurement, decision="approve")
    purchase_request.refresh_from_db()
    workflow.mark_ordered(
        purchase_request, by=procurement, po_number="PO-1", ordered_on=timezone.localdate()
    )
    workflow.close_request(purchase_request, by=requester, received_on=timezone.localdate())
    return purchase_request


def test_the_lifecycle_reaches_the_receiver_signed_once_each(
    receiver, requester, it_reviewer, procurement
):
    purchase_request = approve_and_order(requester, it_reviewer, procurement)
    types = [payload["type"] for _, payload in receiver.accepted]
    assert types == [
        "request.submitted",
        "step.decided",
        "step.decided",
        "request.approved",
        "request.ordered",
        "request.closed",
    ]
    assert receiver.refused == []
    ids = [webhook_id for webhook_id, _ in receiver.accepted]
    assert len(set(ids)) == len(ids) and all(i.startswith("msg_") for i in ids)
    ordered = next(p for _, p in receiver.accepted if p["type"] == "request.ordered")["data"]
    assert (ordered["number"], ordered["po_number"]) == (purchase_request.number, "PO-1")
    assert AuditEvent.objects.get(pk=ordered["audit_event"]["id"]).to_state == "ordered"
    decided = next(p for _, p in receiver.accepted if p["type"] == "step.decided")["data"]
    assert decided["step"]["decision"] == "approved"
    assert decided["step"]["decided_by"] in ("ivan", "paul")
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 6


def test_only_subscribed_events_and_active_endpoints(receiver, requester, allow_loopback):
    receiver.endpoint.event_types = ["request.approved"]
    receiver.endpoint.save()
    WebhookEndpoint.objects.create(url=receiver.url, event_types=ALL, active=False)
    workflow.submit_request(PurchaseRequestFactory(requester=requester), by=requester)
    assert receiver.accepted == []
    assert not WebhookMessage.objects.exists()  # nobody subscribed: nothing written


def test_messages_are_written_in_the_causes_transaction(receiver, requester):
    purchase_request = PurchaseRequestFactory(requester=requester)
    with pytest.raises(RuntimeError), transaction.atomic():
        workflow.submit_request(purchase_request, by=requester)
        assert WebhookMessage.objects.count() == 1
        raise RuntimeError("the submit fails after all")
    assert not WebhookMessage.objects.exists()
    assert receiver.accepted == []


def test_an_outage_is_bridged_and_each_event_arrives_once(
    receiver, requester, it_reviewer, procurement
):
    first = workflow.submit_request(PurchaseRequestFactory(requester=requester), by=requester)
    assert len(receiver.accepted) == 1
    receiver.stop()  # the receiver goes down
    second = workflow.submit_request(PurchaseRequestFactory(requester=requester), by=requester)
    delivery = WebhookDelivery.objects.get(message__body__contains=second.number)
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.next_attempt_at > timezone.now()
    assert "Connection" in delivery.last_error or "refused" in delivery.last_error.lower()
    # Not due yet: the sweep leaves it alone.
    assert services.due_ids() == []
    receiver.answer = 503
    receiver.start()  # back, but still failing
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    from webhooks.tasks import deliver_due

    assert deliver_due.delay().get() == 0
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 2, 503)
    receiver.answer = 200
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert deliver_due.delay().get() == 1
    assert deliver_due.delay().get() == 0  # a second sweep sends nothing again
    numbers = [p["data"]["number"] for _, p in receiver.accepted]
    assert numbers == [first.number, second.number]  # each event once, none lost
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 3
    first_delivery = WebhookDelivery.objects.get(message__body__contains=first.number)
    assert first_delivery.attempts == 1


def test_backoff_doubles_with_jitter_and_spans_about_three_days():
    rng = random.Random(7)
    waits = [services.backoff(n, rng=rng) for n in range(1, 30)]
    assert timedelta(seconds=24) <= waits[0] <= timedelta(seconds=36)
    assert timedelta(seconds=48) <= waits[1] <= timedelta(seconds=72)
    assert max(waits) <= timedelta(hours=12) * 1.2
    total, attempts = timedelta(0), 0
    for wait in waits:
        if total + wait > timedelta(hours=72):
            break
        total += wait
        attempts += 1
    assert 12 <= attempts <= 20
    assert timedelta(hours=60) <= total <= timedelta(hours=72)
    assert len({services.backoff(3) for _ in range(5)}) > 1  # jittered


def test_a_delivery_gives_up_after_the_retry_window(receiver, requester, settings):
    receiver.answer = 500
    workflow.submit_request(PurchaseRequestFactory(requester=requester), by=requester)
    delivery = WebhookDelivery.objects.get()
    WebhookMessage.objects.filter(pk=delivery.message_id).update(
        created_at=timezone.now() - timedelta(hours=72) + timedelta(seconds=10)
    )
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    services.deliver(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.GAVE_UP and delivery.next_attempt_at is None
    assert services.due_ids() == []


def test_410_gone_disables_the_endpoint(receiver, requester):
    receiver.answer = 410
    workflow.submit_request(PurchaseRequestFactory(requester=requester), by=requester)
    receiver.endpoint.refresh_from_db()
    assert receiver.endpoint.active is False
    assert "410" in receiver.endpoint.disabled_reason
    assert WebhookDelivery.objects.get().status == DeliveryStatus.CANCELLED
    workflow.submit_request(PurchaseRequestFactory(requester=requester), by=requester)
    assert WebhookDelivery.objects.count() == 1  # nothing more for a disabled endpoint


def test_replay_sends_the_same_webhook_id_again(receiver, requester, admin_user, client):
    workflow.submit_request(PurchaseRequestFactory(requester=requester), by=requester)
    delivery = WebhookDelivery.objects.get()
    client.force_login(admin_user)
    response = client.post(
        "/admin/webhooks/webhookdelivery/",
        {"action": "replay_selected", "_selected_action": [delivery.pk]},
        follow=True,
    )
    assert "1 delivery(ies) queued again." in response.content.decode()
    assert [i for i, _ in receiver.accepted] == [delivery.message.msg_id] * 2
    page = client.get(f"/admin/webhooks/webhookdelivery/{delivery.pk}/change/").content.decode()
    assert delivery.message.msg_id in page and "204" in page


def test_loopback_and_private_urls_are_refused_unless_allowed(admin_user, client, settings):
    client.force_login(admin_user)
    for url in (
        "http://127.0.0.1:9/x",
        "http://localhost/x",
        "http://10.1.2.3/x",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/x",
        "http://[::ffff:127.0.0.1]/x",
        "ftp://example.com/x",
    ):
        response = client.post(
            "/admin/webhooks/webhookendpoint/add/",
            {"url": url, "description": "ERP", "event_types": ["request.ordered"], "active": "on"},
        )
        assert response.status_code == 200, url  # the form again, with the error
        assert not WebhookEndpoint.objects.exists(), url
    settings.TANDEM_WEBHOOKS_ALLOW_PRIVATE = True
    response = client.post(
        "/admin/webhooks/webhookendpoint/add/",
        {"url": "http://127.0.0.1:9/x", "event_types": ["request.ordered"], "active": "on"},
    )
    assert response.status_code == 302
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret.startswith("whsec_") and endpoint.event_types == ["request.ordered"]


def test_delivery_time_refuses_a_private_address_too(requester, settings):
    """The address is checked again when sending (a DNS answer may have changed)."""
    WebhookEndpoint.objects.create(url="http://127.0.0.1:9/x", event_types=ALL)
    workflow.submit_request(PurchaseRequestFactory(requester=requester), by=requester)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.last_error.startswith("Refused:") and "loopback" in delivery.last_error


def test_a_vendor_approval_is_sent(receiver, it_reviewer, procurement, requester):
    from approvals.models import StepState
    from tests.factories import VendorFactory
    from vendors.models import VendorStatus

    vendor = VendorFactory(status=VendorStatus.PROSPECTIVE)
    purchase_request = workflow.submit_request(
        PurchaseRequestFactory(requester=requester, vendor=vendor), by=requester
    )
    vendor.refresh_from_db()
    for step in vendor.steps.filter(state=StepState.OPEN):
        decide_step(step, by=it_reviewer if step.side == "it" else procurement, decision="approve")
    vendor.refresh_from_db()
    assert vendor.is_approved, vendor.status
    approved = [p for _, p in receiver.accepted if p["type"] == "vendor.approved"]
    assert [p["data"]["name"] for p in approved] == [vendor.name]
    assert purchase_request.pk
