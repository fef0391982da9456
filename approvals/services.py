"""Decisions on approval steps and how the request follows them (SPEC §3): approved when every
step is approved; rejected on any rejection; changes requested on any request for changes,
closing the other open steps of that round. Each decision locks the request first, so two
decisions on one request never interleave."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_fsm import can_proceed

from audit.services import record_event
from core.errors import ConcurrentDecision
from intake.models import PurchaseRequest
from intake.services import apply_transition

from . import policies
from .models import ApprovalStep, StepState
from .routing import open_stage

DECISIONS = {
    "approve": StepState.APPROVED,
    "reject": StepState.REJECTED,
    "request_changes": StepState.CHANGES_REQUESTED,
}
COMMENT_REQUIRED = ("reject", "request_changes")


def decide_step(step: ApprovalStep, *, by, decision: str, comment: str = "") -> ApprovalStep:
    """Records `by`'s decision on an open step and moves the request on. The loser of two
    concurrent decisions gets ConcurrentDecision (HTTP 409) saying who won."""
    if decision not in DECISIONS:
        raise ValueError(f"unknown decision {decision!r}")
    comment = comment.strip()
    if decision in COMMENT_REQUIRED and not comment:
        raise ValidationError(
            {"comment": ["Say why: a comment is required to reject or to request changes."]}
        )
    with transaction.atomic():
        purchase_request = PurchaseRequest.objects.select_for_update().get(pk=step.request_id)
        step = (
            ApprovalStep.objects.select_for_update(of=("self",))
            .select_related("group", "user", "decided_by")
            .get(pk=step.pk)
        )
        step.request = purchase_request
        verdict = policies.can_decide(by, step)
        verdict.enforce()
        if not can_proceed(getattr(step, decision)):
            raise ConcurrentDecision(policies.why_not_open(step))
        now = timezone.now()
        getattr(step, decision)(by=by, on_behalf_of=verdict.on_behalf_of, comment=comment, at=now)
        step.save()
        record_event(
            purchase_request,
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
        _settle(purchase_request, step, by=by, on_behalf_of=verdict.on_behalf_of)
    return step


def _settle(purchase_request: PurchaseRequest, decided: ApprovalStep, *, by, on_behalf_of) -> None:
    """Moves the request after a decision: the one place where the request follows its steps."""
    round_steps = list(ApprovalStep.objects.filter(request=purchase_request, round=decided.round))
    if decided.state in (StepState.REJECTED, StepState.CHANGES_REQUESTED):
        superseded = []
        for step in round_steps:
            if step.state in (StepState.OPEN, StepState.WAITING):
                step.supersede()
                step.save()
                superseded.append(step.pk)
        transition = "reject" if decided.state == StepState.REJECTED else "request_changes"
        apply_transition(
            purchase_request,
            transition,
            by=by,
            on_behalf_of=on_behalf_of,
            payload={"step": decided.pk, "comment": decided.comment, "superseded": superseded},
        )
        return
    if any(s.stage == decided.stage and s.state != StepState.APPROVED for s in round_steps):
        return  # other reviewers of this stage still decide
    waiting = [s for s in round_steps if s.state == StepState.WAITING]
    if waiting:
        next_stage = min(s.stage for s in waiting)
        opened = open_stage(waiting, stage=next_stage)
        record_event(
            purchase_request,
            actor=by,
            kind="stage_opened",
            payload={"stage": next_stage, "reviewers": [s.reviewer_label for s in opened]},
        )
        return
    apply_transition(purchase_request, "approve", by=by, on_behalf_of=on_behalf_of)


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
