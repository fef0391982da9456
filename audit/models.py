from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone


class AuditEventImmutable(Exception):
    """Audit events are evidence: once written they are never changed or removed."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AuditEventImmutable("Audit events cannot be updated.")

    def delete(self):
        raise AuditEventImmutable("Audit events cannot be deleted.")


class AuditEventQuerySet(AppendOnlyQuerySet):
    def for_object(self, obj):
        return self.filter(
            content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk
        ).select_related("actor", "on_behalf_of")


class AuditEvent(models.Model):
    """One append-only entry of the audit trail (SPEC §8): who did what to which object, when,
    the state before and after, and the details in `payload`. Written in the same transaction as
    the change it records."""

    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Who acted; empty for the system (scheduled tasks).",
    )
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The delegator, when the actor acted as their delegate.",
    )
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField()
    subject = GenericForeignKey("content_type", "object_id")
    kind = models.CharField(max_length=40)
    from_state = models.CharField(max_length=40, blank=True)
    to_state = models.CharField(max_length=40, blank=True)
    payload = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    # The hash chain (tandem_verify.chain): a gap-free position in the whole trail, the previous
    # event's hash and this event's own, over every field above. A writer leaves them empty; the
    # sealer (audit.sealer) fills them once, in the order it seals, so no writer ever waits for
    # another writer's transaction. `sealed_at` says when.
    sequence = models.PositiveBigIntegerField(unique=True, null=True, editable=False)
    prev_hash = models.CharField(max_length=64, blank=True, default="", editable=False)
    hash = models.CharField(max_length=64, blank=True, default="", editable=False)
    # The link names its subject (`tandem_verify.chain.subject_tag`), so an evidence packet can
    # show that it holds every event of its request; empty on events recorded before.
    subject_tag = models.CharField(max_length=64, blank=True, default="", editable=False)
    sealed_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [
            models.Index(fields=["content_type", "object_id", "occurred_at"]),
            # What the sealer reads next: the events not yet in the chain, oldest first.
            models.Index(
                fields=["id"], condition=models.Q(sequence__isnull=True), name="audit_unsealed"
            ),
        ]

    def __str__(self):
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.kind} by {self.actor or 'system'}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AuditEventImmutable("Audit events cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditEventImmutable("Audit events cannot be deleted.")


class AuditCheckpoint(models.Model):
    """A daily statement of the chain's length and head hash, signed with Tandem's Ed25519 key
    (settings TANDEM_AUDIT_SIGNING_KEY) and mailed to the admins. A chain rewritten from some
    point on, hashes recomputed, no longer ends in a head that a signed checkpoint names."""

    day = models.DateField(unique=True, help_text="One checkpoint per day (UTC).")
    sequence = models.PositiveBigIntegerField(help_text="How many events the chain held.")
    head_hash = models.CharField(max_length=64)
    signed_at = models.DateTimeField()
    signature = models.CharField(max_length=100, help_text="Ed25519 signature, base64.")
    public_key = models.CharField(max_length=100, help_text="Ed25519 public key, base64 (raw).")
    key_id = models.CharField(max_length=16, help_text="Start of the public key's SHA-256.")

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-sequence", "-id"]
        get_latest_by = "signed_at"

    def __str__(self):
        return f"Checkpoint {self.day}: {self.sequence} events, head {self.head_hash[:12]}…"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AuditEventImmutable("Audit checkpoints cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditEventImmutable("Audit checkpoints cannot be deleted.")
