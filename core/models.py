from django.conf import settings
from django.db import models


class Heartbeat(models.Model):
    """The last time a periodic piece of work completed (or a process was alive): `sweep` (the
    reminder sweep), `delivery` (the periodic delivery of the outbox), `beat` (Celery beat's
    scheduler loop). Read by the health commands, the metrics and the admin alerts."""

    name = models.CharField(max_length=40, primary_key=True)
    at = models.DateTimeField()

    def __str__(self):
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S}"


class IdempotencyKey(models.Model):
    """A client's `Idempotency-Key` and the response it got, so that a retried call (a timeout,
    a crashed client) gets the same answer instead of acting twice."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    scope = models.CharField(max_length=100, help_text="Which call the key was used for.")
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the call it was used for.")
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user")
        ]

    def __str__(self):
        return f"{self.scope} {self.key}"
