"""Decisions on approval steps and how their request or vendor follows them (SPEC §3, §5):
approved when every step is approved; rejected on any rejection; changes requested on any
request for changes, closing the other open steps of that round. Each decision locks its
subject first, so two decisions on one request (or vendor) never interleave."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_fsm import can_proceed

from audit.services import record_event
from core.errors import ConcurrentDecision, TransitionNotAllowed
from intake.models import PurchaseRequest
from vendors.models import Vendor

from . import policies, workflow
from .models import ApprovalStep, StepState

DECISIONS = {
    "approve": StepState.APPROVED,
    "reject": StepState.REJECTED,
    "request_changes": StepState.CHANGES_REQUESTED,
}
COMMENT_REQUIRED = ("reject", "request_changes")


def decide_step(step: ApprovalStep, *, by, decision: str, comment: str = "") -> ApprovalStep:
    """Records `by`'s decision on an open step and moves its request (or vendor) on. The loser
    of two concurrent decisions gets ConcurrentDecision (HTTP 409) saying who won."""
    if decision not in DECISIONS:
        raise ValueError(f"unknown decision {decision!r}")
    comment = comment.strip()
    if decision in COMMENT_REQUIRED and not comment:
        raise ValidationError(
            {"comment": ["Say why: a comment is required to reject or to request changes."]}
        )
    with transaction.atomic(durable=True):
        # The subject's row lock serialises every decision on one request or vendor.
        if step.request_id:
            subject = PurchaseRequest.objects.select_for_update().get(pk=step.request_id)
        else:
            subject = Vendor.objects.select_for_update().get(pk=step.vendor_id)
        step = (
            ApprovalStep.objects.select_for_update(of=("self",))
            .select_related("group", "user", "decided_by")
            .get(pk=step.pk)
        )
        if step.request_id:
            step.request = subject
        else:
            step.vendor = subject
        verdict = policies.can_decide(by, step)
        verdict.enforce()
        if not can_proceed(getattr(step, decision)):
            raise ConcurrentDecision(policies.why_not_open(step))
        if step.vendor_id and decision == "request_changes":
            raise TransitionNotAllowed(
                "A vendor review ends in approval or rejection; ask questions in a comment."
            )
        getattr(step, decision)(
            by=by, on_behalf_of=verdict.on_behalf_of, comment=comment, at=timezone.now()
        )
        step.save()
        record_event(
            subject,
            actor=by,
            on_behalf_of=verdict.on_behalf_of,
            kind=f"step_{decision}",
            from_state=StepState.OPEN,
            to_state=step.state,
            payload={
                "step": step.pk,
                "reviewer": step.reviewer_label,
                "side": step.side,
                "stage": step.stage,
                "comment": comment,
            },
        )
        workflow.settle(subject, step, by=by, on_behalf_of=verdict.on_behalf_of)
    return step


def record_rule_change(rule, *, by, created: bool) -> None:
    """Rule changes are part of the audit trail (SPEC §8)."""
    with transaction.atomic():
        record_event(
            rule,
            actor=by,
            kind="rule_created" if created else "rule_changed",
            payload={"name": rule.name, "active": rule.active, "kind": rule.kind},
        )


def save_rule(serializer, *, by):
    """Saves a rule from the API with its audit event, in one transaction."""
    created = serializer.instance is None
    with transaction.atomic():
        rule = serializer.save()
        record_rule_change(rule, by=by, created=created)
    return rule


def delete_rule(rule, *, by) -> None:
    """Steps already routed keep their copy of the rule (SET_NULL); the deletion is recorded."""
    with transaction.atomic():
        record_event(rule, actor=by, kind="rule_deleted", payload={"name": rule.name})
        rule.delete()


def record_settings_change(process_settings, *, by, changed: list[str]) -> None:
    """Changes of the process settings are part of the audit trail, like rule changes."""
    with transaction.atomic():
        record_event(
            process_settings,
            actor=by,
            kind="settings_changed",
            payload={name: str(getattr(process_settings, name)) for name in changed},
        )
