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
from core.transitions import PAST_TENSE, apply_transition
from intake.models import PurchaseRequest, State
from vendors.models import Vendor

from . import notices, policies
from .models import ApprovalStep, StepState
from .routing import open_stage

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
    with transaction.atomic():
        lock_audit_chain()  # before any row lock: see lock_audit_chain
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
        outcome = _round_outcome(subject, step, by=by)
        if step.request_id:
            _settle_request(subject, step, outcome, by=by, on_behalf_of=verdict.on_behalf_of)
        else:
            _settle_vendor(subject, step, outcome, by=by, on_behalf_of=verdict.on_behalf_of)
    return step


def _round_outcome(subject, decided: ApprovalStep, *, by) -> str:
    """What the decision means for its round: "pending" while steps remain; "rejected" or
    "changes_requested" at once (the other open steps are superseded); "approved" when the last
    step is; a completed stage opens the next one. Shared by requests and vendors."""
    round_steps = list(subject.steps.filter(round=decided.round))
    if decided.state in (StepState.REJECTED, StepState.CHANGES_REQUESTED):
        _supersede(round_steps)
        return decided.state
    if any(s.stage == decided.stage and s.state != StepState.APPROVED for s in round_steps):
        return "pending"  # other reviewers of this stage still decide
    waiting = [s for s in round_steps if s.state == StepState.WAITING]
    if not waiting:
        return StepState.APPROVED
    next_stage = min(s.stage for s in waiting)
    opened = open_stage(waiting, stage=next_stage)
    record_event(
        subject,
        actor=by,
        kind="stage_opened",
        payload={"stage": next_stage, "reviewers": [s.reviewer_label for s in opened]},
    )
    return "pending"


def _supersede(steps) -> None:
    for step in steps:
        if step.state in (StepState.OPEN, StepState.WAITING):
            step.supersede()
            step.save()


def _settle_request(purchase_request, decided, outcome: str, *, by, on_behalf_of) -> None:
    """The request follows its steps: the one place where that happens."""
    transition = {
        StepState.APPROVED: "approve",
        StepState.REJECTED: "reject",
        StepState.CHANGES_REQUESTED: "request_changes",
    }.get(outcome)
    if transition:
        apply_transition(
            purchase_request,
            transition,
            by=by,
            on_behalf_of=on_behalf_of,
            payload={"step": decided.pk, "comment": decided.comment},
        )
        notices.request_decided(
            purchase_request,
            outcome=PAST_TENSE[transition],
            round=decided.round,
            comment=decided.comment,
        )


def _settle_vendor(vendor, decided, outcome: str, *, by, on_behalf_of) -> None:
    """An approved vendor releases the requests that waited for it; a rejected one sends them
    back to their requesters to choose another vendor."""
    if outcome == StepState.APPROVED:
        transition = "approve_with_conditions" if vendor.conditions else "approve"
        apply_transition(vendor, transition, by=by, on_behalf_of=on_behalf_of)
        for purchase_request in _requests_waiting_for(vendor):
            waiting = list(purchase_request.steps.filter(state=StepState.WAITING))
            opened = open_stage(waiting, stage=min(s.stage for s in waiting))
            record_event(
                purchase_request,
                actor=by,
                kind="stage_opened",
                payload={
                    "stage": opened[0].stage,
                    "reviewers": [s.reviewer_label for s in opened],
                    "vendor_approved": vendor.name,
                },
            )
    elif outcome == StepState.REJECTED:
        apply_transition(
            vendor, "reject", by=by, on_behalf_of=on_behalf_of, payload={"comment": decided.comment}
        )
        for purchase_request in _requests_waiting_for(vendor):
            _supersede(purchase_request.steps.filter(state=StepState.WAITING))
            apply_transition(
                purchase_request,
                "request_changes",
                by=by,
                on_behalf_of=on_behalf_of,
                payload={
                    "comment": f"The vendor {vendor.name} was not approved: {decided.comment} "
                    "Choose another vendor and resubmit.",
                },
            )


def _requests_waiting_for(vendor):
    """Requests in review with no open step: their steps wait for this vendor. Locked."""
    waiting = (
        PurchaseRequest.objects.filter(vendor=vendor, state=State.IN_REVIEW)
        .exclude(steps__state=StepState.OPEN)
        .values("pk")
    )
    return PurchaseRequest.objects.select_for_update().filter(pk__in=waiting)


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
