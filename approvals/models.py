"""Routing rules and the approval steps they create (SPEC §3)."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from accounts import roles
from calendars import selectors as calendar_selectors
from core.validation import validate_one_line, validate_text_length
from core.working_hours import WorkingHours, add_working_time, working_time_between
from intake.models import DataClassification
from vendors.models import RiskTier, VendorStatus

from .subjects import subject_of

# A request that proposes a vendor not yet in Tandem matches this vendor-status condition.
NEW_VENDOR = "new"
# A reminder, repeat or escalation at most a year after a step opens: due times stay in the
# calendar whatever an admin types.
MAX_HOURS = 24 * 365
MAX_STAGE = 20
VENDOR_STATUS_CHOICES = [
    (NEW_VENDOR, "New vendor (proposed on the request)"),
    *VendorStatus.choices,
]


class Side(models.TextChoices):
    IT = "it", "IT"
    PROCUREMENT = "procurement", "Procurement"
    FINANCE = "finance", "Finance"


# Joint sign-off: every routed request has a step of each, decided by different people.
JOINT_SIDES = (Side.IT, Side.PROCUREMENT)
# The leader of each side (SPEC §3): told of an escalation when the step names nobody, and the
# one who decides a step nobody of its group may decide.
LEADER_OF_SIDE = {Side.IT: roles.CIO, Side.PROCUREMENT: roles.CPO, Side.FINANCE: roles.CPO}


class RuleKind(models.TextChoices):
    ROUTE = "route", "Adds a step when it matches"
    BASELINE = (
        "baseline",
        "Baseline review: added to every routed request while its conditions hold",
    )
    AUTO_APPROVE = "auto_approve", "Approves at once when it matches"
    VENDOR_REVIEW = "vendor_review", "Vendor review: the vendor must be approved first"


class ApprovalRuleQuerySet(models.QuerySet):
    def update(self, **kwargs):
        """A bulk change is a change too: it moves `updated_at`, which every process's cache of
        compiled rules compares (routing.rules_version)."""
        kwargs.setdefault("updated_at", timezone.now())
        return super().update(**kwargs)


class ApprovalRule(models.Model):
    """An admin-configured routing rule: when every set condition holds, the rule adds its step
    (or, for auto-approval rules, approves the request at once). Empty conditions always hold."""

    name = models.CharField(max_length=200, unique=True, validators=[validate_one_line])
    active = models.BooleanField(default=True)
    kind = models.CharField(max_length=20, choices=RuleKind.choices, default=RuleKind.ROUTE)

    # Conditions
    min_total = models.DecimalField(
        "total cost from", max_digits=14, decimal_places=2, null=True, blank=True,
        help_text="In the base currency, inclusive.",
    )  # fmt: skip
    max_total = models.DecimalField(
        "total cost below", max_digits=14, decimal_places=2, null=True, blank=True,
        help_text="In the base currency, exclusive.",
    )  # fmt: skip
    categories = models.ManyToManyField("intake.Category", blank=True, related_name="+")
    data_classifications = models.JSONField(
        default=list, blank=True, help_text=f"Any of: {', '.join(DataClassification.values)}"
    )
    personal_data = models.BooleanField(
        null=True, blank=True, help_text="Yes or no to require it; empty for either."
    )
    vendor_statuses = models.JSONField(
        default=list,
        blank=True,
        help_text=f"Any of: {', '.join(v for v, _ in VENDOR_STATUS_CHOICES)}",
    )
    vendor_risk_tiers = models.JSONField(
        default=list, blank=True, help_text=f"Any of: {', '.join(RiskTier.values)}"
    )
    departments = models.ManyToManyField("accounts.Department", blank=True, related_name="+")
    over_budget = models.BooleanField(
        null=True,
        blank=True,
        help_text="Yes: only requests that take their department's budget over; no: only "
        "requests within budget; empty for either.",
    )

    # The step it adds
    reviewer_group = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewer_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    side = models.CharField(max_length=20, choices=Side.choices, blank=True)
    stage = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(MAX_STAGE)]
    )
    sla_hours = models.PositiveIntegerField(
        "reminder SLA (hours)", default=48, validators=[MaxValueValidator(MAX_HOURS)]
    )
    repeat_every_hours = models.PositiveIntegerField(
        "repeat reminder every (hours)", default=24, validators=[MaxValueValidator(MAX_HOURS)]
    )
    escalate_after_hours = models.PositiveIntegerField(
        "escalate after (hours)", default=96, validators=[MaxValueValidator(MAX_HOURS)]
    )
    escalation_group = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    escalation_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = ApprovalRuleQuerySet.as_manager()

    class Meta:
        ordering = ["stage", "name"]
        indexes = [models.Index(fields=["active", "kind"])]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        if self.kind != RuleKind.AUTO_APPROVE:
            if not (self.reviewer_group_id or self.reviewer_user_id):
                errors["reviewer_group"] = "Name the reviewer group or a reviewer."
            if self.reviewer_group_id and self.reviewer_user_id:
                errors["reviewer_user"] = "Name a group or a user, not both."
            if not self.side:
                errors["side"] = "Say which side the step belongs to."
        bounds = (self.min_total, self.max_total)
        if None not in bounds and self.max_total <= self.min_total:
            errors["max_total"] = "The upper bound must be above the lower bound."
        for field, allowed in [
            ("data_classifications", DataClassification.values),
            ("vendor_statuses", [v for v, _ in VENDOR_STATUS_CHOICES]),
            ("vendor_risk_tiers", RiskTier.values),
        ]:
            values = getattr(self, field)
            if not isinstance(values, list) or any(v not in allowed for v in values):
                errors[field] = f"A list of: {', '.join(allowed)}."
        if errors:
            raise ValidationError(errors)


# The order in which a group's members are named ("Ivan Novak or 2 others in IT review").
MEMBER_ORDER = ("first_name", "last_name", "username")


class StepState(models.TextChoices):
    WAITING = "waiting", "Waiting for an earlier stage"
    OPEN = "open", "Open"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    SUPERSEDED = "superseded", "Superseded"
    DONE = "done", "Done"


class StepKind(models.TextChoices):
    """A review step is a decision (approve, request changes, reject) under the four-eyes rules.
    The work after approval rides on the same rows so that the queue, due times, reminders,
    escalations and keyset paging serve it unchanged: procurement's order, then the
    requester's confirmation of receipt. Those are done by their action (mark ordered, close),
    never decided, and four eyes and settling ignore them."""

    REVIEW = "review", "Review"
    ORDER = "order", "Place the order"
    RECEIPT = "receipt", "Confirm receipt"


WORK_ITEM_KINDS = (StepKind.ORDER, StepKind.RECEIPT)
# What the person who closed a step did, in their words (`ApprovalStep.closing_note`).
DECIDED_WORDS = {
    StepState.APPROVED: "approved",
    StepState.REJECTED: "rejected it",
    StepState.CHANGES_REQUESTED: "asked for changes",
}
DONE_WORDS = {StepKind.ORDER: "recorded the order", StepKind.RECEIPT: "confirmed receipt"}


DECIDED_STATES = (StepState.APPROVED, StepState.REJECTED, StepState.CHANGES_REQUESTED)


@dataclass(frozen=True)
class StoppedClock:
    """The SLA clock of a step interrupted when its request went back to the requester."""

    step: "ApprovalStep"
    stopped_at: object
    due_at: object
    escalate_at: object
    escalated_at: object


class ApprovalStep(ConcurrentTransitionMixin, models.Model):
    """One reviewer's sign-off on one round of a request, or of a vendor's review: the same
    decision machinery serves both (exactly one of `request` and `vendor` is set). Created by
    routing with the rule's SLA and escalation copied in, so later rule edits leave reviews in
    progress unchanged."""

    # Every index takes each rescheduled step's new `next_alert_at` (the reminder sweep
    # updates thousands of open steps a second), so foreign keys have no index of their own
    # (`db_index=False`) where one serves nobody: `request` and `vendor` are looked up through
    # the indexes that start with them, `rule` only when a rule is deleted (a scan, for a rare
    # admin action). The deciders and escalation targets, looked up when a user or group is
    # deleted, have partial indexes of the steps that name one: open steps (no decider, rarely
    # an escalation target) take no entry (Meta).
    request = models.ForeignKey(
        "intake.PurchaseRequest",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="steps",
        db_index=False,
    )
    vendor = models.ForeignKey(
        "vendors.Vendor",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="steps",
        db_index=False,
    )
    kind = models.CharField(max_length=10, choices=StepKind.choices, default=StepKind.REVIEW)
    round = models.PositiveSmallIntegerField(default=1, help_text="1 on submit, +1 per resubmit.")
    stage = models.PositiveSmallIntegerField(default=1)
    side = models.CharField(max_length=20, choices=Side.choices)
    group = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rule = models.ForeignKey(
        ApprovalRule,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="steps",
        db_index=False,
    )
    rule_name = models.CharField(max_length=200)
    reasons = models.JSONField(default=list, blank=True, help_text="Why routing added the step.")
    state = FSMField(
        max_length=20, choices=StepState.choices, default=StepState.WAITING, protected=True
    )

    sla_hours = models.PositiveIntegerField()
    repeat_every_hours = models.PositiveIntegerField()
    escalate_after_hours = models.PositiveIntegerField()
    escalation_group = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    escalation_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )

    opened_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    escalate_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    next_alert_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the sweep next has a reminder or escalation for this open step.",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    decided_for = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        help_text="The delegator, when the decision was taken by their delegate.",
    )
    comment = models.TextField(blank=True, validators=[validate_text_length])
    # Why the step went to its side's leader: nobody of its group could decide it (SPEC §3).
    leader_because = models.CharField(max_length=500, blank=True)
    closed_because = models.CharField(
        max_length=200,
        blank=True,
        help_text="Why a step closed without its own decision (e.g. withdrawn by the requester).",
    )
    # Work is assigned, not raced (approvals.services.take_step / assign_step / release_step):
    # the one person who said "I'll take it" or was handed the step. Colleagues still decide a
    # held step (the decision records whom it was held by); when the step closes the hold stays
    # as history of who was working on it.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        help_text="Who took this step, or was handed it: it shows first in their queue.",
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    carried_from = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The approval of an earlier round this step carries over.",
    )
    clock_resumed_from = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The earlier round's step whose SLA clock this step continues: it stopped "
        "while the request waited for its requester.",
    )

    class Meta:
        ordering = ["round", "stage", "side", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "kind", "round", "group", "stage"],
                condition=Q(group__isnull=False),
                name="one_step_per_kind_group_and_stage",
            ),
            models.UniqueConstraint(
                fields=["request", "kind", "round", "user", "stage"],
                condition=Q(user__isnull=False),
                name="one_step_per_kind_user_and_stage",
            ),
            models.UniqueConstraint(
                fields=["vendor", "round", "group", "stage"],
                condition=Q(group__isnull=False),
                name="one_vendor_step_per_group_and_stage",
            ),
            models.CheckConstraint(
                condition=Q(group__isnull=False) | Q(user__isnull=False),
                name="step_has_a_reviewer",
            ),
            models.CheckConstraint(
                condition=Q(request__isnull=False, vendor__isnull=True)
                | Q(request__isnull=True, vendor__isnull=False),
                name="step_is_for_a_request_or_a_vendor",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "due_at"], name="open_steps_by_due"),
            models.Index(
                fields=["next_alert_at"],
                condition=Q(state="open"),
                name="open_steps_by_next_alert",
            ),
            models.Index(
                fields=["group", "due_at"],
                condition=Q(state="open"),
                name="open_steps_by_group_due",
            ),
            models.Index(fields=["request", "round", "stage"]),
            models.Index(fields=["vendor", "round", "stage"]),
            # A reviewer's insights count the requests with a review step on their side: an
            # index-only merge with the requests instead of hashing every step
            # (insights.selectors); the kind in the condition is what makes it index-only.
            models.Index(
                fields=["side", "request"],
                condition=Q(request__isnull=False, kind=StepKind.REVIEW),
                name="request_review_steps_by_side",
            ),
            *(
                models.Index(
                    fields=[field],
                    condition=Q(**{f"{field}__isnull": False}),
                    name=f"steps_by_{field}",
                )
                for field in ("decided_by", "decided_for", "escalation_user", "escalation_group")
            ),
            # "Yours" in Waiting for me: the open steps a person holds, most urgent first. Open
            # steps nobody holds take no entry.
            models.Index(
                fields=["assignee", "due_at"],
                condition=Q(state="open", assignee__isnull=False),
                name="open_steps_by_assignee",
            ),
        ]

    def __str__(self):
        return f"{self.reviewer_label} ({self.get_side_display()}, stage {self.stage})"

    @property
    def reviewer_label(self) -> str:
        """The reviewer as people read it: the group's display name ("IT review") or the
        named user."""
        return roles.group_label(self.group.name) if self.group_id else str(self.user)

    @property
    def people_label(self) -> str:
        """Who can take this step, as people: "Ivan Novak or 2 others in IT review". The
        requester is left out: they never decide their own request. Lists prefetch what it needs
        (`approvals.selectors.step_people_lookups`: the group's size and its first two people,
        and whether the requester is one of them), whatever the group's size; a step on its own
        asks two small queries."""
        if not self.group_id:
            return str(self.user)
        requester_id = None
        if ApprovalStep.request.is_cached(self) and self.request is not None:
            requester_id = self.request.requester_id
        leading = getattr(self.group, "leading_members", None)
        if leading is None:
            people = self.group.user_set.filter(is_active=True).exclude(pk=requester_id)
            return roles.people_phrase(
                people.order_by(*MEMBER_ORDER).first(), people.count(), self.group.name
            )
        first = next((m for m in leading if m.pk != requester_id), None)
        count = self.group.active_count - int(bool(getattr(self, "requester_in_group", False)))
        return roles.people_phrase(first, count, self.group.name)

    @property
    def is_review(self) -> bool:
        return self.kind == StepKind.REVIEW

    @property
    def task_label(self) -> str:
        """What the step asks of its holder, in plain words (lists and notifications)."""
        if self.kind == StepKind.ORDER:
            return "To order: record the purchase order"
        if self.kind == StepKind.RECEIPT:
            return "Confirm receipt when it arrives"
        return f"Stage {self.stage} · {self.get_side_display()} · {self.reviewer_label}"

    @property
    def subject(self):
        """The purchase request or the vendor this step decides on."""
        return subject_of(self).obj

    @property
    def subject_label(self) -> str:
        return subject_of(self).label

    @property
    def is_overdue(self) -> bool:
        return (
            self.state == StepState.OPEN
            and self.due_at is not None
            and self.due_at < timezone.now()
        )

    # The reminder schedule (SPEC §4, §8a): the first reminder at the due time, then one every
    # `repeat_every_hours`, and one escalation at `escalate_at`, all in working time of the
    # step's calendar (the reviewer group's). The sweep records each alert once under its
    # (step, kind, sequence) key; `next_alert_at` tells it when to look again. Due and
    # escalation times are stored when the step opens, so the sweep compares them in SQL.

    def reminder_sequence(self, now, calendar: WorkingHours) -> int:
        """0 at the due time, then +1 every `repeat_every_hours` of working time (missed ones
        are not replayed)."""
        if not self.repeat_every_hours:
            return 0
        worked = working_time_between(self.due_at, now, calendar)
        return int(worked / timedelta(hours=self.repeat_every_hours))

    def next_alert(self, *, sequence: int | None, escalated: bool, calendar: WorkingHours):
        """When the next reminder or escalation is due, after reminder `sequence` (None: none
        yet) and with the escalation sent or not."""
        candidates = []
        if sequence is None:
            candidates.append(self.due_at)
        elif self.repeat_every_hours:
            candidates.append(
                add_working_time(self.due_at, self.repeat_every_hours * (sequence + 1), calendar)
            )
        if not escalated and self.escalate_at:  # receipt steps are never escalated
            candidates.append(self.escalate_at)
        return min(candidates) if candidates else None

    @transition(field=state, source=StepState.WAITING, target=StepState.OPEN)
    def open(self, *, at, calendar: WorkingHours | None = None, resumes=None):
        """The SLA clock starts: due and escalation times count working hours of the calendar
        (by default the reviewer group's). A step that `resumes` the clock of an earlier round's
        step, stopped while the request waited for its requester (and for a vendor review),
        keeps that step's times moved by the working time the clock stood still."""
        if calendar is None:
            calendar = calendar_selectors.working_hours_of(self.group_id)
        self.opened_at = at
        if resumes is not None:
            paused = working_time_between(resumes.stopped_at, at, calendar)
            self.due_at = add_working_time(resumes.due_at, paused, calendar)
            self.escalate_at = resumes.escalate_at and add_working_time(
                resumes.escalate_at, paused, calendar
            )
            self.escalated_at = resumes.escalated_at
            self.clock_resumed_from = resumes.step
        else:
            self.due_at = add_working_time(at, self.sla_hours, calendar)
            self.escalate_at = add_working_time(at, self.escalate_after_hours, calendar)
        # Confirming receipt is reminded, never escalated: it is the requester's own item.
        if self.kind == StepKind.RECEIPT:
            self.escalate_at = None
        self.next_alert_at = self.next_alert(
            sequence=None, escalated=self.escalated_at is not None, calendar=calendar
        )

    @transition(field=state, source=StepState.WAITING, target=StepState.APPROVED)
    def carry_over(self, *, approval: "ApprovalStep"):
        """The approval of an earlier round stands in this round: same decider, same time."""
        self.carried_from = approval
        self.decided_by = approval.decided_by
        self.decided_for = approval.decided_for
        self.decided_at = approval.decided_at
        self.comment = approval.comment
        self.next_alert_at = None

    @transition(field=state, source=StepState.OPEN, target=StepState.DONE)
    def complete(self, *, by, at):
        """A work item (order, receipt) is done by its action, not decided."""
        self._record_decision(by, None, "", at)

    @transition(field=state, source=StepState.OPEN, target=StepState.APPROVED)
    def approve(self, *, by, on_behalf_of=None, comment="", at):
        self._record_decision(by, on_behalf_of, comment, at)

    @transition(field=state, source=StepState.OPEN, target=StepState.REJECTED)
    def reject(self, *, by, on_behalf_of=None, comment="", at):
        self._record_decision(by, on_behalf_of, comment, at)

    @transition(field=state, source=StepState.OPEN, target=StepState.CHANGES_REQUESTED)
    def request_changes(self, *, by, on_behalf_of=None, comment="", at):
        self._record_decision(by, on_behalf_of, comment, at)

    @transition(
        field=state, source=[StepState.WAITING, StepState.OPEN], target=StepState.SUPERSEDED
    )
    def supersede(self, *, because: str = ""):
        """Closed without its own decision: `because` says why, in words every channel shows
        ("Rita Requester withdrew the request")."""
        self.next_alert_at = None
        self.closed_because = because[:200]

    @property
    def closing_note(self) -> str:
        """How every channel's message about a closed step says it closed, as people say it:
        "Ivan Novak approved", "Paul Okafor asked for changes", "Cora Chen (for Carl Ito)
        rejected it", "Closed: Rita Requester withdrew the request"."""
        if self.state == StepState.SUPERSEDED:
            return f"Closed: {self.closed_because or 'the round ended'}"
        by = f"{self.decided_by}" + (f" (for {self.decided_for})" if self.decided_for_id else "")
        if self.state == StepState.DONE:
            return f"{by} {DONE_WORDS.get(self.kind, 'did it')}"
        return f"{by} {DECIDED_WORDS.get(self.state, self.get_state_display().lower())}"

    def _record_decision(self, by, on_behalf_of, comment, at):
        self.next_alert_at = None
        self.decided_by = by
        self.decided_for = on_behalf_of
        self.comment = comment
        self.decided_at = at


class AssignmentMode(models.TextChoices):
    OFF = "off", "Off: the whole group sees new steps, anyone takes one"
    ROUND_ROBIN = "round_robin", "Round robin: each new step to the next person in turn"
    FEWEST_OPEN = "fewest_open", "Fewest open: each new step to whoever holds the fewest"


class GroupAssignment(models.Model):
    """How a reviewer group's new steps are assigned when their stage opens (issue #28): off,
    round robin, or to whoever holds the fewest open steps; always among the people who may
    decide the step, skipping anyone out of office (an open delegation) or barred by four eyes
    (approvals.assignment)."""

    group = models.OneToOneField(Group, on_delete=models.CASCADE, related_name="+")
    mode = models.CharField(
        max_length=20, choices=AssignmentMode.choices, default=AssignmentMode.OFF
    )
    last_assigned = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        help_text="Round robin: whose turn it was last.",
    )

    class Meta:
        verbose_name = "automatic assignment"
        verbose_name_plural = "automatic assignment of groups"

    def __str__(self):
        return f"{roles.group_label(self.group.name)}: {self.get_mode_display()}"


class ProcessSettings(models.Model):
    """The admin's settings of the process around the reviews (one row, edited in the admin):
    the due time, reminders and escalation of the work after approval, and whether approvals
    carry over when a request comes back without a material change."""

    order_sla_hours = models.PositiveIntegerField(
        "order due after (hours)",
        default=72,
        help_text="Procurement places the order of an approved request within this time.",
    )
    order_repeat_every_hours = models.PositiveIntegerField(
        "repeat the order reminder every (hours)", default=24, help_text="0: remind once."
    )
    order_escalate_after_hours = models.PositiveIntegerField(
        "escalate an order not placed after (hours)", default=120
    )
    order_escalation_group = models.ForeignKey(
        Group,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Who hears of an order not placed in time; empty: the CPO.",
    )
    receipt_sla_hours = models.PositiveIntegerField(
        "receipt confirmation due after (hours)",
        default=336,
        help_text="The requester confirms receipt within this time after the order.",
    )
    receipt_repeat_every_hours = models.PositiveIntegerField(
        "repeat the receipt reminder every (hours)", default=168, help_text="0: remind once."
    )
    carry_over_approvals = models.BooleanField(
        "carry approvals over on resubmit",
        default=True,
        help_text="When a request comes back without a material change, the approvals of the "
        "sides that did not ask for changes carry over into the new round.",
    )
    cost_tolerance_percent = models.DecimalField(
        "cost tolerance (%)",
        max_digits=5,
        decimal_places=2,
        default=Decimal("10.00"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="A total cost up by more than this share of the submitted cost is a material "
        "change; a cost up by exactly this much, or down, is not.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "process settings"

    def __str__(self):
        return "Process settings"

    def save(self, *args, **kwargs):
        self.pk = 1  # one row: the settings of this installation
        super().save(*args, **kwargs)

    @classmethod
    def current(cls) -> "ProcessSettings":
        settings_row, _ = cls.objects.get_or_create(pk=1)
        return settings_row


class RoundSnapshot(models.Model):
    """What a request looked like when it entered a review round: a resubmit compares the
    request against the previous round's snapshot to tell a material change (SPEC §3)."""

    request = models.ForeignKey(
        "intake.PurchaseRequest", on_delete=models.CASCADE, related_name="round_snapshots"
    )
    round = models.PositiveSmallIntegerField()
    taken_at = models.DateTimeField(auto_now_add=True)
    total_cost = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3)
    total_cost_base = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    vendor = models.ForeignKey(
        "vendors.Vendor", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    proposed_vendor_name = models.CharField(max_length=200, blank=True)
    category = models.ForeignKey(
        "intake.Category", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    data_classification = models.CharField(max_length=20, blank=True)
    handles_personal_data = models.BooleanField(null=True, blank=True)

    class Meta:
        ordering = ["request", "round"]
        constraints = [
            models.UniqueConstraint(fields=["request", "round"], name="one_snapshot_per_round"),
        ]

    def __str__(self):
        return f"{self.request_id} round {self.round}"


class AlertKind(models.TextChoices):
    REMINDER = "reminder", "Reminder"
    ESCALATION = "escalation", "Escalation"


class StepAlert(models.Model):
    """A reminder or escalation recorded for a step. The unique key (step, kind, sequence) is
    what makes it exactly once: a second sweep, a retried task or a second beat inserts nothing."""

    step = models.ForeignKey(ApprovalStep, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=12, choices=AlertKind.choices)
    sequence = models.PositiveIntegerField(help_text="0 for the first reminder, then 1, 2, ...")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["step", "kind", "sequence"], name="alert_once"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.sequence} for step {self.step_id}"


class Consultation(models.Model):
    """A second opinion (SPEC §3): a reviewer who may decide an open step asks a named colleague
    a question. The colleague sees the request and answers; they get no decision power (the
    approval policy never reads this table). An unanswered question is reminded once, at
    `remind_at`, through the sweep: the reminder is a row whose unique key makes it once."""

    step = models.ForeignKey(ApprovalStep, on_delete=models.CASCADE, related_name="consultations")
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    colleague = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="consultations"
    )
    question = models.TextField(validators=[validate_text_length])
    answer = models.TextField(blank=True, validators=[validate_text_length])
    asked_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    remind_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the sweep reminds the colleague; cleared once answered or reminded.",
    )

    class Meta:
        ordering = ["asked_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["step", "colleague"],
                condition=Q(answered_at__isnull=True),
                name="one_open_consultation_per_colleague",
            ),
        ]
        indexes = [
            models.Index(
                fields=["remind_at"],
                condition=Q(remind_at__isnull=False),
                name="consultations_to_remind",
            ),
            models.Index(
                fields=["colleague", "asked_at"],
                condition=Q(answered_at__isnull=True),
                name="open_consultations_by_person",
            ),
        ]

    def __str__(self):
        return f"{self.asked_by} asks {self.colleague} about step {self.step_id}"

    @property
    def is_answered(self) -> bool:
        return self.answered_at is not None


class ConsultationReminder(models.Model):
    """The one reminder of an unanswered consultation. The unique consultation key is what makes
    it exactly once: a second sweep, a retried task or a second beat inserts nothing."""

    consultation = models.OneToOneField(
        Consultation, on_delete=models.CASCADE, related_name="reminder"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"Reminder for consultation {self.consultation_id}"


class RuleSetVersion(models.Model):
    """The routing rules as they were after a change (SPEC §3, "the active rules form a
    version"): every rule, active or not, with its conditions and step, and what changed from
    the version before, in words. Written only by `rule_versions.record_version`; never
    changed afterwards, so that "routed under version 7" keeps its meaning."""

    number = models.PositiveIntegerField(unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=500, blank=True)
    rules = models.JSONField(default=list, help_text="Every rule's fields, as `rulesets.snapshot`.")
    changes = models.JSONField(default=list, help_text="What changed from the version before.")

    class Meta:
        ordering = ["-number"]

    def __str__(self):
        return f"Rules version {self.number}"


class DraftState(models.TextChoices):
    EDITING = "editing", "Being edited"
    SUBMITTED = "submitted", "Waiting for a second admin"
    APPROVED = "approved", "Approved"
    PUBLISHED = "published", "Published"
    REJECTED = "rejected", "Rejected"


class BacktestState(models.TextChoices):
    NONE = "", "Not run"
    QUEUED = "queued", "Waiting to start"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class RuleDraft(ConcurrentTransitionMixin, models.Model):
    """A change to the routing rules, edited apart from the live rules, backtested against past
    requests, and published only when a second admin approves it (four eyes on the rules
    themselves, SPEC §3). An emergency publication by one admin still needs that approval
    within a day (`rule_drafts.publish_in_emergency`; operations.alerts raises an alert)."""

    based_on = models.ForeignKey(RuleSetVersion, on_delete=models.PROTECT, related_name="drafts")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(max_length=500, blank=True, validators=[validate_one_line])
    rules = models.JSONField(default=list)
    state = FSMField(default=DraftState.EDITING, choices=DraftState.choices, protected=True)

    backtest_state = models.CharField(
        max_length=10, choices=BacktestState.choices, blank=True, default=BacktestState.NONE
    )
    backtest_started_at = models.DateTimeField(null=True, blank=True)
    backtest_done = models.PositiveIntegerField(default=0)
    backtest_total = models.PositiveIntegerField(default=0)
    backtest_of = models.CharField(
        max_length=64, blank=True, help_text="The fingerprint of the rules the backtest ran on."
    )
    backtest_result = models.JSONField(null=True, blank=True)

    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    published_version = models.OneToOneField(
        RuleSetVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="draft"
    )
    emergency_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    emergency_reason = models.CharField(max_length=500, blank=True)
    emergency_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["emergency_at"],
                condition=Q(emergency_at__isnull=False, decided_by__isnull=True),
                name="rule_drafts_to_confirm",
            )
        ]

    def __str__(self):
        return f"Rule change {self.pk}"

    @property
    def awaits_confirmation(self) -> bool:
        """Published in an emergency by one admin, not yet approved by a second."""
        return self.emergency_at is not None and self.decided_by_id is None

    @transition(field=state, source=DraftState.EDITING, target=DraftState.SUBMITTED)
    def submit(self, *, at):
        self.submitted_at = at

    @transition(field=state, source=DraftState.SUBMITTED, target=DraftState.EDITING)
    def reopen(self):
        self.submitted_at = None

    @transition(field=state, source=DraftState.SUBMITTED, target=DraftState.APPROVED)
    def approve(self, *, by, at):
        self.decided_by, self.decided_at = by, at

    @transition(field=state, source=DraftState.SUBMITTED, target=DraftState.REJECTED)
    def reject(self, *, by, at):
        self.decided_by, self.decided_at = by, at

    @transition(field=state, source=DraftState.APPROVED, target=DraftState.PUBLISHED)
    def publish(self, *, version):
        self.published_version = version

    @transition(
        field=state,
        source=[DraftState.EDITING, DraftState.SUBMITTED],
        target=DraftState.PUBLISHED,
    )
    def publish_in_emergency(self, *, by, reason, at, version):
        self.emergency_by, self.emergency_reason, self.emergency_at = by, reason, at
        self.published_version = version
