"""Writing webhook messages to the outbox and delivering them (Standard Webhooks).

Guarantee: a message is written in the transaction of its cause (an audit event), with one
delivery per subscribed endpoint, unique per (endpoint, message); each delivery is claimed
before it is sent, so two workers never send it at once, and retried with exponential backoff
and jitter until the receiver answers 2xx, for TANDEM_WEBHOOK_RETRY_HOURS (about three days).
A 410 Gone disables the endpoint. The receiver deduplicates on `webhook-id`, which stays the
same across retries and replays."""

import json
import logging
import random
import time
import uuid
from datetime import UTC, timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from core import formats
from core.tasks import enqueue_each

from . import net
from .models import (
    EVENT_TYPE_NAMES,
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookMessage,
)

logger = logging.getLogger(__name__)

CLAIM_TIMEOUT = timedelta(minutes=5)
FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=12)
USER_AGENT = "Tandem-Webhooks/1"

# Which audit events are which webhook events: (subject "app_label.model", audit kind).
REQUEST = "intake.purchaserequest"
VENDOR = "vendors.vendor"
EVENT_OF = {
    (REQUEST, "submit"): "request.submitted",
    (REQUEST, "resubmit"): "request.submitted",
    (REQUEST, "approve"): "request.approved",
    (REQUEST, "reject"): "request.rejected",
    (REQUEST, "mark_ordered"): "request.ordered",
    (REQUEST, "close"): "request.closed",
    (REQUEST, "step_approve"): "step.decided",
    (REQUEST, "step_reject"): "step.decided",
    (REQUEST, "step_request_changes"): "step.decided",
    (VENDOR, "approve"): "vendor.approved",
    (VENDOR, "approve_with_conditions"): "vendor.approved",
}


def on_audit_event(event, subject) -> None:
    """The audit trail's listener: turns the events an ERP cares about into messages, in the
    same transaction."""
    meta = subject._meta
    event_type = EVENT_OF.get((f"{meta.app_label}.{meta.model_name}", event.kind))
    if event_type is None:
        return
    endpoints = subscribed_endpoints(event_type)
    if not endpoints:
        return  # nobody listens: the payload (a few queries) is not even built
    data = subject.webhook_data() if hasattr(subject, "webhook_data") else {"id": subject.pk}
    if event_type == "step.decided":
        data = {
            "request": data,
            "step": {
                "id": event.payload.get("step"),
                "side": event.payload.get("side"),
                "stage": event.payload.get("stage"),
                "reviewer": event.payload.get("reviewer"),
                "decision": event.to_state,
                "comment": event.payload.get("comment", ""),
                "decided_by": getattr(event.actor, "username", None),
                "on_behalf_of": getattr(event.on_behalf_of, "username", None),
            },
        }
    # The event's id: its place in the chain is sealed seconds after the commit (audit.sealer),
    # and GET /api/requests/{id}/events/ shows it with its hashes.
    data["audit_event"] = {"id": event.pk}
    emit(event_type, data, occurred_at=event.occurred_at, endpoints=endpoints)


def subscribed_endpoints(event_type: str) -> list[WebhookEndpoint]:
    """The active endpoints subscribed to `event_type`."""
    if event_type not in EVENT_TYPE_NAMES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    return [e for e in WebhookEndpoint.objects.filter(active=True) if event_type in e.event_types]


def emit(event_type: str, data: dict, *, occurred_at=None, endpoints=None) -> WebhookMessage | None:
    """Writes one message and a delivery for each active endpoint subscribed to `event_type`,
    in the caller's transaction; their first attempt is enqueued after it commits. No
    subscribed endpoint: nothing is written."""
    if endpoints is None:
        endpoints = subscribed_endpoints(event_type)
    if not endpoints:
        return None
    occurred_at = occurred_at or timezone.now()
    body = json.dumps(
        {
            "type": event_type,
            "timestamp": occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "data": data,
        },
        cls=DjangoJSONEncoder,
        separators=(",", ":"),
    )
    message = WebhookMessage.objects.create(
        msg_id=f"msg_{uuid.uuid4().hex}", event_type=event_type, body=body
    )
    deliveries = WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(endpoint=endpoint, message=message) for endpoint in endpoints]
    )
    ids = [delivery.pk for delivery in deliveries]
    transaction.on_commit(lambda: enqueue(ids))
    return message


def enqueue(delivery_ids) -> None:
    """Hands the deliveries to Celery; with the broker down they wait for `deliver_due`."""
    enqueue_each("webhooks.tasks.deliver", delivery_ids, what="webhook delivery")


def backoff(attempts: int, *, rng=random) -> timedelta:
    """The wait after the `attempts`-th failure: 30 s doubling each time, at most 12 hours,
    with ±20 % jitter so that many endpoints failing together do not retry together."""
    base = min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LONGEST_WAIT)
    return base * rng.uniform(0.8, 1.2)


def signed_headers(endpoint: WebhookEndpoint, message: WebhookMessage, *, at=None) -> dict:
    """The Standard Webhooks headers: webhook-id, webhook-timestamp, webhook-signature (v1,
    HMAC-SHA256 over `id.timestamp.body` with the endpoint's secret)."""
    at = (at or timezone.now()).astimezone(UTC)
    signature = Webhook(endpoint.secret).sign(message.msg_id, at, message.body)
    return {
        "webhook-id": message.msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
    }


def deliver(delivery_id: int) -> bool:
    """Tries one delivery if it is due; True when the receiver took it now."""
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(
        Q(status=DeliveryStatus.PENDING)
        | Q(status=DeliveryStatus.FAILED, next_attempt_at__lte=now)
        | Q(status=DeliveryStatus.SENDING, claimed_at__lt=now - CLAIM_TIMEOUT),
        pk=delivery_id,
        endpoint__active=True,
    ).update(status=DeliveryStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if claimed != 1:
        return False
    delivery = WebhookDelivery.objects.select_related("endpoint", "message").get(pk=delivery_id)
    endpoint, message = delivery.endpoint, delivery.message
    started = time.monotonic()
    status_code, excerpt, error = None, "", ""
    try:
        status_code, excerpt = net.post(
            endpoint.url, message.body.encode(), signed_headers(endpoint, message)
        )
    except net.UnsafeURL as refusal:
        error = f"Refused: {refusal}"
    except OSError as failure:
        error = f"{type(failure).__name__}: {failure}"
    duration = int((time.monotonic() - started) * 1000)
    WebhookAttempt.objects.create(
        delivery=delivery,
        attempted_at=now,
        status_code=status_code,
        error=error[:2000],
        response_excerpt=excerpt[:500],
        duration_ms=duration,
    )
    if status_code is not None and 200 <= status_code < 300:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.DELIVERED,
            delivered_at=timezone.now(),
            last_status_code=status_code,
            last_error="",
            next_attempt_at=None,
        )
        return True
    if status_code == 410:
        disable_endpoint(endpoint, reason=f"The receiver answered 410 Gone on {formats.day(now)}.")
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.CANCELLED, last_status_code=410, last_error="410 Gone"
        )
        return False
    window_ends = message.created_at + timedelta(hours=settings.TANDEM_WEBHOOK_RETRY_HOURS)
    retry_at = now + backoff(delivery.attempts)
    give_up = retry_at > window_ends
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.GAVE_UP if give_up else DeliveryStatus.FAILED,
        last_status_code=status_code,
        last_error=error or f"The receiver answered {status_code}.",
        next_attempt_at=None if give_up else retry_at,
    )
    logger.warning(
        "webhook delivery %s to %s failed (attempt %s): %s",
        delivery.pk,
        endpoint.url,
        delivery.attempts,
        error or status_code,
    )
    return False


def disable_endpoint(endpoint: WebhookEndpoint, *, reason: str) -> None:
    """Stops sending to an endpoint: its waiting deliveries are cancelled."""
    with transaction.atomic():
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(active=False, disabled_reason=reason)
        endpoint.deliveries.filter(
            status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED]
        ).update(status=DeliveryStatus.CANCELLED, next_attempt_at=None)


def replay(delivery: WebhookDelivery) -> bool:
    """Sends a delivery again (admin: delivery log), with the same webhook-id so the receiver
    can tell it is the same event. Not while it is being sent, nor to a disabled endpoint."""
    updated = (
        WebhookDelivery.objects.filter(pk=delivery.pk, endpoint__active=True)
        .exclude(status=DeliveryStatus.SENDING)
        .update(status=DeliveryStatus.PENDING, next_attempt_at=None, claimed_at=None)
    )
    if updated:
        transaction.on_commit(lambda: enqueue([delivery.pk]))
    return bool(updated)


def due_ids(now=None, limit: int = 500) -> list[int]:
    """Deliveries due for a (re)try, for the periodic sweep."""
    now = now or timezone.now()
    return list(
        WebhookDelivery.objects.filter(endpoint__active=True)
        .filter(
            Q(status=DeliveryStatus.PENDING)
            | Q(status=DeliveryStatus.FAILED, next_attempt_at__lte=now)
            | Q(status=DeliveryStatus.SENDING, claimed_at__lt=now - CLAIM_TIMEOUT)
        )
        .order_by("id")
        .values_list("pk", flat=True)[:limit]
    )
