from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.db.models import Q


class Channel(models.TextChoices):
    EMAIL = "email", "E-mail"
    IN_APP = "in_app", "In the app"
    WEBHOOK = "webhook", "Slack/Teams webhook"
    SLACK = "slack", "Slack direct message"


class Status(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed, will retry"
    GAVE_UP = "gave_up", "Failed, retries exhausted"


class Kind(models.TextChoices):
    """What a notice is about, as its reader chooses how to hear of it (SPEC §4). Every notice
    names its kind (`notify(kind=…)`); `KINDS` says which a person may choose for, and how they
    hear of each until they choose."""

    ASSIGNED = "assigned", "Assigned to me"
    GROUP = "group", "My group's new items"
    REMINDERS = "reminders", "Reminders"
    OUTCOMES = "outcomes", "Outcomes of my requests"
    # Alerts to admins and the leaders' own daily summary: always at once, nobody turns them off.
    SERVICE = "service", "Service messages"
    DIGEST = "digest", "Daily digest"  # the digest's own e-mail


class Delivery(models.TextChoices):
    """How a person hears of a kind by e-mail (and Slack, where it is set up). In the app they
    always do."""

    AT_ONCE = "at_once", "At once"
    DIGEST = "digest", "Daily digest"
    OFF = "off", "Off"


@dataclass(frozen=True)
class KindSetting:
    default: str
    explains: str


# The one mapping of the kinds a person chooses for: their default, and what each covers, in
# the words of the Notifications page. A kind not here (SERVICE) is always sent at once.
KINDS = {
    Kind.ASSIGNED: KindSetting(
        Delivery.AT_ONCE,
        "A step handed or assigned to you, one escalated to you, a colleague asking your "
        "opinion, a renewal or budget that is yours to decide.",
    ),
    Kind.GROUP: KindSetting(
        Delivery.DIGEST,
        "A step opening for your group that nobody holds yet, orders to place, certificates "
        "about to expire.",
    ),
    # At once: a reminder is sent only once something is already overdue, and at most every
    # few hours; a day's delay in a digest would defeat it.
    Kind.REMINDERS: KindSetting(
        Delivery.AT_ONCE, "A step or question of yours that is past its due time."
    ),
    Kind.OUTCOMES: KindSetting(
        Delivery.AT_ONCE,
        "Your request approved, rejected, sent back or ordered; an answer to a question you asked.",
    ),
}


class NotificationPreference(models.Model):
    """A person's choice for one kind; without a row, the kind's default (`KINDS`)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=20, choices=[(k.value, k.label) for k in KINDS])
    delivery = models.CharField(max_length=10, choices=Delivery.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="one_preference_per_kind")
        ]

    def __str__(self):
        return f"{self.user}: {self.get_kind_display()} {self.get_delivery_display().lower()}"


class Digest(models.Model):
    """A person's daily digest of one day (in their time zone): claimed, by its unique (user,
    day), before the notices it covers are marked and its one e-mail is written, so a second
    run of the task, or a second scheduler, sends nothing twice. It covers the person's own
    notices marked for it, and their groups' notices written in (`since`, `until`]: each
    digest starts where their previous one ended, so a group notice is in exactly one."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digests"
    )
    day = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    since = models.DateTimeField(help_text="Group notices written after this…")
    until = models.DateTimeField(help_text="…up to this instant are in this digest.")
    items = models.PositiveIntegerField(default=0, help_text="How many notices its e-mail lists.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="one_digest_a_day")]

    def __str__(self):
        return f"Digest of {self.day} for {self.user}"


class Notification(models.Model):
    """The outbox (SPEC §4): one row per message and channel, written in the transaction of its
    cause and delivered afterwards by a Celery task, retried with backoff until it is sent.
    In-app notifications are delivered by being written; the bell lists them.

    An in-app notice to a group (a step opening for a group that nobody holds yet) is ONE row,
    `group` set and no `recipient`, whatever the group's size (SPEC §4): its members see it
    (`services.notices_of`), each with their own read state (`NoticeState`)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    group = models.ForeignKey(
        "auth.Group",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notices",
        help_text="A group notice: the one in-app row its members see.",
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    body_html = models.TextField(blank=True)
    summary = models.TextField(
        blank=True, help_text="What happened, who did it and why, as the inbox shows it."
    )
    url = models.CharField(max_length=500, help_text="The page where the reader acts.")
    action = models.CharField(
        max_length=200,
        blank=True,
        help_text="The e-mail's call to action, kept when its body is rendered at delivery.",
    )
    amount = models.CharField(
        max_length=60,
        blank=True,
        help_text='The money the notice is about ("12500.00 EUR"), at the top of its e-mail.',
    )
    topic = models.CharField(
        max_length=100,
        blank=True,
        db_index=True,
        help_text="What the reader is asked to act on (e.g. a step); done when it is settled.",
    )
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, blank=True)
    awaits_digest = models.BooleanField(
        default=False,
        help_text="An in-app notice whose e-mail its reader gets in their next daily digest.",
    )
    digest = models.ForeignKey(
        Digest,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notifications",
        help_text="The daily digest that covered it.",
    )

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(
        null=True, blank=True, help_text="When what it asked for was settled, by anyone."
    )
    done_note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["status", "next_attempt_at"],
                condition=Q(status__in=["pending", "failed", "sending"]),
                name="undelivered_notifications",
            ),
            models.Index(
                fields=["recipient", "channel", "read_at"],
                condition=Q(channel="in_app"),
                name="in_app_inbox",
            ),
            # Opening a page reads the unread notifications pointing to it (`url`, or an anchor
            # or query of it: a LIKE prefix, hence the pattern operator class), among however
            # many a busy reviewer has not read.
            models.Index(
                fields=["recipient", "url"],
                opclasses=["", "varchar_pattern_ops"],
                condition=Q(channel="in_app", read_at__isnull=True),
                name="unread_in_app_by_url",
            ),
            # The inbox, newest first, a page at a time (Meta.ordering), however long the history.
            models.Index(
                fields=["recipient", "created_at"],
                condition=Q(awaits_digest=True),
                name="awaiting_digest",
            ),
            models.Index(
                fields=["recipient", "-created_at", "-id"],
                condition=Q(channel="in_app"),
                name="in_app_newest_first",
            ),
            # A group's notices, newest first, from a member's joining on (the inbox, the
            # digest's window), however long the group's history.
            models.Index(
                fields=["group", "-created_at", "-id"],
                condition=Q(recipient__isnull=True, group__isnull=False),
                name="group_notices_newest_first",
            ),
            # Those still open (the bell on every page): as many as the group's open work, not
            # its history.
            models.Index(
                fields=["group", "created_at"],
                condition=Q(recipient__isnull=True, group__isnull=False, done_at__isnull=True),
                name="open_group_notices",
            ),
        ]

    def __str__(self):
        to = self.recipient or (f"group {self.group_id}" if self.group_id else "webhook")
        return f"{self.get_channel_display()} to {to}: {self.subject}"


class NoticeState(models.Model):
    """One person's state of a group notice: written only when they read it, or, as it is
    written, for a member who must not see it (the step's requester, or its holder, told as
    such): as many rows as readers and exclusions, never one per member."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="states")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notice_states"
    )
    read_at = models.DateTimeField(null=True, blank=True)
    hidden = models.BooleanField(default=False, help_text="Not shown to this member.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["notification", "user"], name="one_state_per_reader")
        ]

    def __str__(self):
        state = "hidden" if self.hidden else ("read" if self.read_at else "unread")
        return f"Notice {self.notification_id} {state} for user {self.user_id}"
