"""Decisions on approval steps and how their request or vendor follows them (SPEC §3, §5):
approved when every step is approved; rejected on any rejection; changes requested on any
request for changes, closing the other open steps of that round. Each decision locks its
subject first, so two decisions on one request (or vendor) never interleave."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_fsm import can_proceed

from audit.services import lock_audit_chain, record_event
from core.errors import ConcurrentDecision, TransitionNotAllowed

from . import policies, workflow
from .models import ApprovalRule, ApprovalStep, StepState
from .subjects import subject_kind

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
        lock_audit_chain()  # before any row lock: see lock_audit_chain
        # The subject's row lock serialises every decision on one request or vendor.
        subject = subject_kind(step).locked(step)
        step = (
            ApprovalStep.objects.select_for_update(of=("self",))
            .select_related("group", "user", "decided_by")
            .get(pk=step.pk)
        )
        subject.attach(step)
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
            subject.obj,
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
        workflow.settle(subject.obj, step, by=by, on_behalf_of=verdict.on_behalf_of)
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


RULE_RELATIONS = ("categories", "departments")


def save_rule(rule: ApprovalRule | None, *, by, fields: dict) -> ApprovalRule:
    """Creates (`rule` None) or changes a rule from plain validated data. The model's own rules
    (a reviewer, a side, sensible bounds and lists) are checked once, by `full_clean`; the change
    is recorded in the audit trail in the same transaction."""
    created = rule is None
    rule = rule or ApprovalRule()
    fields = dict(fields)
    relations = {name: fields.pop(name) for name in RULE_RELATIONS if name in fields}
    for name, value in fields.items():
        setattr(rule, name, value)
    with transaction.atomic(durable=True):
        rule.full_clean()
        rule.save()
        for name, values in relations.items():
            getattr(rule, name).set(values)
        record_rule_change(rule, by=by, created=created)
    return rule


def delete_rule(rule, *, by) -> None:
    """Steps already routed keep their copy of the rule (SET_NULL); the deletion is recorded."""
    with transaction.atomic():
        record_event(rule, actor=by, kind="rule_deleted", payload={"name": rule.name})
        rule.delete()
