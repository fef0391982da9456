from django.conf import settings
from django.db import models


class TokenKind(models.TextChoices):
    LINK = "link", "Decision link"
    REPLY = "reply", "Reply-to address"


class DecisionToken(models.Model):
    """A personal way to decide one step, sent to one reviewer: the link in a "for your
    decision" e-mail, or the reply-to address of that e-mail. Only a hash of the random token is
    stored; it is bound to its recipient, its step and the subject's revision when it was sent
    (an edit voids it), used once, and expires with the step or after
    TANDEM_DECISION_LINK_DAYS."""

    kind = models.CharField(max_length=10, choices=TokenKind.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    step = models.ForeignKey(
        "approvals.ApprovalStep", on_delete=models.CASCADE, related_name="decision_tokens"
    )
    revision = models.CharField(max_length=64, help_text="The subject's fingerprint when sent.")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["step", "user"])]

    def __str__(self):
        return f"{self.get_kind_display()} for {self.user} on step {self.step_id}"


class InboundMessage(models.Model):
    """Each e-mail reply is handled once, whatever the receiver or Celery repeat: its
    Message-ID (or, lacking one, a hash of the message) is unique."""

    message_key = models.CharField(max_length=255, unique=True)
    sender = models.CharField(max_length=320, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    outcome = models.CharField(max_length=500, blank=True)

    def __str__(self):
        return f"{self.message_key} from {self.sender}"


class SlackAccount(models.Model):
    """A Tandem user's Slack user, found by e-mail (users.lookupByEmail)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="slack_account"
    )
    slack_user_id = models.CharField(max_length=40, unique=True)
    dm_channel = models.CharField(max_length=40, blank=True)

    def __str__(self):
        return f"{self.user} is {self.slack_user_id} on Slack"


class SlackMessage(models.Model):
    """The "for your decision" message in one reviewer's Slack DM, so that every reviewer's
    message of a step can show who decided it (chat.update)."""

    step = models.ForeignKey(
        "approvals.ApprovalStep", on_delete=models.CASCADE, related_name="slack_messages"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=40)
    ts = models.CharField(max_length=40)
    posted_at = models.DateTimeField(auto_now_add=True)
    settled_note = models.CharField(
        max_length=200, blank=True, help_text="Who decided, once the message says so."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["step", "user"], name="one_slack_message_per_reviewer")
        ]

    def __str__(self):
        return f"Slack message to {self.user} on step {self.step_id}"
