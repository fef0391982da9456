"""Outbound webhooks (issue 18) following the Standard Webhooks specification: admins register
endpoints; each event Tandem sends is a message written in the transaction of its cause, with
one delivery per subscribed endpoint, retried with backoff until delivered, given up after
about three days, or stopped by a 410 Gone."""

import base64
import secrets

from django.db import models
from django.db.models import Q

EVENT_TYPES = [
    ("request.submitted", "A request was submitted (or resubmitted) for review"),
    ("step.decided", "A reviewer decided an approval step"),
    ("request.approved", "A request was approved"),
    ("request.rejected", "A request was rejected"),
    ("request.ordered", "The order of a request was placed (PO number recorded)"),
    ("request.closed", "Receipt was confirmed and the request closed"),
    ("vendor.approved", "A vendor was approved"),
]
EVENT_TYPE_NAMES = [name for name, _ in EVENT_TYPES]


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class WebhookEndpoint(models.Model):
    url = models.URLField("URL", max_length=500)
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(
        default=list, help_text="The events sent to this endpoint; empty for none."
    )
    secret = models.CharField(
        max_length=100,
        default=new_secret,
        help_text="The receiver verifies each message's signature with this secret.",
    )
    active = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["url", "id"]

    def __str__(self):
        return self.description or self.url


class WebhookMessage(models.Model):
    """One event as sent: its id (`webhook-id`, the receiver's idempotency key), type and the
    exact body, signed afresh at each attempt."""

    msg_id = models.CharField(max_length=40, unique=True)
    event_type = models.CharField(max_length=40, choices=EVENT_TYPES)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.event_type} {self.msg_id}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENDING = "sending", "Being sent"
    FAILED = "failed", "Failed, will retry"
    DELIVERED = "delivered", "Delivered"
    GAVE_UP = "gave_up", "Failed, retries exhausted"
    CANCELLED = "cancelled", "Not sent: the endpoint was disabled"


class WebhookDelivery(models.Model):
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    message = models.ForeignKey(WebhookMessage, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "message"], name="one_delivery_per_endpoint"
            )
        ]
        indexes = [
            models.Index(
                fields=["status", "next_attempt_at"],
                condition=Q(status__in=["pending", "failed", "sending"]),
                name="undelivered_webhooks",
            )
        ]

    def __str__(self):
        return f"{self.message} to {self.endpoint}"


class WebhookAttempt(models.Model):
    """The delivery log: one row per try, with what the receiver answered."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="log")
    attempted_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-attempted_at", "-id"]

    def __str__(self):
        return f"{self.attempted_at:%Y-%m-%d %H:%M:%S} {self.status_code or self.error[:40]}"
