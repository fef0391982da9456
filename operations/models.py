from django.db import models


class AlertKind(models.TextChoices):
    GAVE_UP = "gave_up", "A notification could not be delivered"
    SWEEP_STALE = "sweep_stale", "The reminder sweep has stopped"
    RULES_UNCONFIRMED = (
        "rules_unconfirmed",
        "A rule change published in an emergency has no second approval",
    )


class Alert(models.Model):
    """Something an admin must look at, raised once: the unique `key` names the cause (the
    notification that gave up, or the last sweep before an outage), so two checks at the same
    moment, or a check repeated every minute, raise it once. Its e-mail goes once too: beat
    claims the row (`claimed_at`), sends, and marks it `mailed_at`; a failed send is released
    and tried again at the next check (operations.alerts)."""

    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    key = models.CharField(max_length=200, unique=True)
    summary = models.CharField(max_length=300)
    notification = models.ForeignKey(
        "notifications.Notification",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    raised_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    mailed_at = models.DateTimeField(
        null=True, blank=True, help_text="When its e-mail to the admins was sent."
    )
    claimed_at = models.DateTimeField(
        null=True, blank=True, help_text="When a check took it to send its e-mail."
    )
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text="How many times its e-mail was tried."
    )
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]
        indexes = [
            models.Index(
                fields=["id"], condition=models.Q(mailed_at__isnull=True), name="alerts_to_mail"
            ),
            models.Index(
                fields=["kind", "notification"],
                condition=models.Q(resolved_at__isnull=True),
                name="open_alerts",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.summary}"
