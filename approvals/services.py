"""Decisions on approval steps and how their request or vendor follows them (SPEC §3, §5):
approved when every step is approved; rejected on any rejection; changes requested on any
request for changes, closing the other open steps of that round. Each decision locks its
subject first, so two decisions on one request (or vendor) never interleave."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_fsm import can_proceed

from audit.services import record_event
from calendars import selectors as calendar_selectors
from core import formats
from core.errors import ConcurrentDecision, TransitionNotAllowed
from core.validation import check_text
from core.working_hours import add_working_time
from notifications.services import mark_done

from . import notices, policies, rule_versions, workflow
from .models import JOINT_SIDES, ApprovalRule, ApprovalStep, Consultation, StepState
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
    check_text(comment=comment)  # every way in (page, API, e-mail link and reply, Slack)
    if decision in COMMENT_REQUIRED and not comment:
        raise ValidationError(
            {"comment": ["Say why: a comment is required to reject or to request changes."]}
        )
    with transaction.atomic(durable=True):
        # The subject's row lock serialises every decision on one request or vendor.
        subject = subject_kind(step).locked(step)
        step = (
            ApprovalStep.objects.select_for_update(of=("self",))
            .select_related("group", "user", "decided_by", "assignee")
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
                **_held_by(step, by),
            },
        )
        workflow.settle(subject.obj, step, by=by, on_behalf_of=verdict.on_behalf_of)
        # Four eyes may have left the other side's open steps with nobody to decide them.
        workflow.send_open_steps_to_leaders(subject.obj.steps.filter(side__in=JOINT_SIDES))
        # Its notices are settled for the whole group, on every channel (the steps the
        # decision closed were settled as they closed).
        notices.steps_closed([step])
    return step


def _held_by(step: ApprovalStep, by) -> dict:
    """A colleague decided a step somebody else held: allowed, and recorded, never lost."""
    if step.assignee_id and step.assignee_id != by.pk:
        return {"held_by": str(step.assignee), "held_by_username": step.assignee.username}
    return {}


def _step_payload(step: ApprovalStep) -> dict:
    return {
        "step": step.pk,
        "reviewer": step.reviewer_label,
        "side": step.side,
        "stage": step.stage,
    }


def ask_colleague(step: ApprovalStep, *, by, colleague, question: str) -> Consultation:
    """A second opinion (SPEC §3): a reviewer who may decide this open step asks a named
    colleague (a reviewer or leader, never the requester) a question. The colleague is told,
    sees the request and answers; they get no right to decide. Unanswered after
    TANDEM_CONSULTATION_REMIND_AFTER_HOURS working hours, they are reminded once."""
    question = (question or "").strip()
    if not question:
        raise ValidationError({"question": ["Write the question for your colleague."]})
    check_text(question=question)
    with transaction.atomic(durable=True):
        subject = subject_kind(step).locked(step)
        step = ApprovalStep.objects.select_related("group", "user").get(pk=step.pk)
        subject.attach(step)
        verdict = policies.can_decide(by, step)
        policies.can_consult(by, step).enforce()
        if step.state != StepState.OPEN:
            raise TransitionNotAllowed(
                f"{policies.why_not_open(step)} Ask a colleague only while it is open."
            )
        allowed = policies.can_be_consulted(colleague, step, asked_by=by)
        if not allowed:
            raise ValidationError({"colleague": [allowed.reason]})
        if step.consultations.filter(colleague=colleague, answered_at__isnull=True).exists():
            raise TransitionNotAllowed(
                f"{colleague} has not answered the question already asked on this step yet."
            )
        now = timezone.now()
        consultation = Consultation.objects.create(
            step=step,
            asked_by=by,
            colleague=colleague,
            question=question,
            asked_at=now,
            # Working hours of the step's reviewer group, like the step's own reminders.
            remind_at=add_working_time(
                now,
                settings.TANDEM_CONSULTATION_REMIND_AFTER_HOURS,
                calendar_selectors.working_hours_of(step.group_id),
            ),
        )
        record_event(
            subject.obj,
            actor=by,
            on_behalf_of=verdict.on_behalf_of,
            kind="consultation_asked",
            payload={
                **_step_payload(step),
                "consultation": consultation.pk,
                "colleague": str(colleague),
                "question": question,
            },
        )
        notices.consultation_asked(consultation)
    return consultation


def answer_consultation(consultation: Consultation, *, by, answer: str) -> Consultation:
    """Only the colleague who was asked answers, once, while the step is open. The answer sits
    on the step and in the timeline, and the reviewer who asked is told."""
    answer = (answer or "").strip()
    if not answer:
        raise ValidationError({"answer": ["Write your answer."]})
    check_text(answer=answer)
    with transaction.atomic(durable=True):
        subject = subject_kind(consultation.step).locked(consultation.step)
        consultation = Consultation.objects.select_related(
            "step", "step__group", "step__user", "asked_by", "colleague"
        ).get(pk=consultation.pk)
        step = consultation.step
        subject.attach(step)
        policies.can_answer(by, consultation).enforce()
        if consultation.is_answered:
            raise TransitionNotAllowed(
                f"{consultation.colleague} already answered this question on "
                f"{formats.when(consultation.answered_at)}."
            )
        if step.state != StepState.OPEN:
            raise TransitionNotAllowed(
                f"{policies.why_not_open(step)} The question is closed; add a comment instead."
            )
        consultation.answer = answer
        consultation.answered_at = timezone.now()
        consultation.remind_at = None
        consultation.save(update_fields=["answer", "answered_at", "remind_at"])
        record_event(
            subject.obj,
            actor=by,
            kind="consultation_answered",
            payload={
                **_step_payload(step),
                "consultation": consultation.pk,
                "asked_by": str(consultation.asked_by),
                "answer": answer,
            },
        )
        notices.consultation_answered(consultation)
        mark_done([notices.consultation_topic(consultation)], note=f"Answered by {by}")
    return consultation


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
        rule_versions.record_version(
            by=by, reason=f"Rule “{rule.name}” {'added' if created else 'changed'}"
        )
    return rule


def delete_rule(rule, *, by) -> None:
    """Steps already routed keep their copy of the rule (SET_NULL); the deletion is recorded."""
    with transaction.atomic():
        record_event(rule, actor=by, kind="rule_deleted", payload={"name": rule.name})
        name = rule.name
        rule.delete()
        rule_versions.record_version(by=by, reason=f"Rule “{name}” removed")


def record_settings_change(process_settings, *, by, changed: list[str]) -> None:
    """Changes of the process settings are part of the audit trail, like rule changes."""
    with transaction.atomic():
        record_event(
            process_settings,
            actor=by,
            kind="settings_changed",
            payload={name: str(getattr(process_settings, name)) for name in changed},
        )


# Work is assigned, not raced (issue #28): a step held by one person shows first in their queue
# and as theirs to colleagues, who may still decide it. The hold is kept when the step closes,
# as the history of who was working on it; only open steps are taken, handed on or released.


def _locked_step(step: ApprovalStep):
    """The step and its subject, locked in the order `decide_step` locks them (the subject,
    then the step), so a hold and a decision on one step never interleave."""
    subject = subject_kind(step).locked(step)
    step = (
        ApprovalStep.objects.select_for_update(of=("self",))
        .select_related("group", "user", "assignee")
        .get(pk=step.pk)
    )
    subject.attach(step)
    return step, subject


def _refuse_unless_open(step: ApprovalStep, acting: str) -> None:
    if step.state != StepState.OPEN:
        raise TransitionNotAllowed(f"{policies.why_not_open(step)} Only an open step is {acting}.")


def _hold(step: ApprovalStep, person) -> None:
    step.assignee = person
    step.assigned_at = timezone.now() if person is not None else None
    step.save(update_fields=["assignee", "assigned_at"])


def take_step(step: ApprovalStep, *, by) -> ApprovalStep:
    """ "I'll take it": a reviewer who may decide an open step holds it, so it shows first in
    their queue and as theirs to colleagues. Refused (409) while somebody else holds it: they
    hand it on, or a colleague decides it anyway. Taking a step one holds changes nothing."""
    with transaction.atomic(durable=True):
        step, subject = _locked_step(step)
        policies.can_take(by, step).enforce()
        _refuse_unless_open(step, "taken")
        if why := policies.held_by_another(by, step):
            raise TransitionNotAllowed(why)
        if step.assignee_id == by.pk:
            return step
        _hold(step, by)
        record_event(
            subject.obj,
            actor=by,
            kind="step_taken",
            payload={**_step_payload(step), "holder": str(by), "holder_username": by.username},
        )
    return step


def release_step(step: ApprovalStep, *, by) -> ApprovalStep:
    """Undoes "I'll take it": the step is the whole group's again. Only whoever holds it, the
    leader of its side or an admin releases it; a step nobody holds is left as it is."""
    with transaction.atomic(durable=True):
        step, subject = _locked_step(step)
        policies.can_release(by, step).enforce()
        _refuse_unless_open(step, "released")
        if not step.assignee_id:
            return step
        holder = step.assignee
        _hold(step, None)
        record_event(
            subject.obj,
            actor=by,
            kind="step_released",
            payload={**_step_payload(step), "holder": str(holder)},
        )
    return step


def assign_step(step: ApprovalStep, *, by, to) -> ApprovalStep:
    """Hands an open step to a colleague, who is told at once (in the app and by e-mail).
    Whoever holds it, a reviewer who may decide it, or the leader of its side or an admin hands
    it (403 otherwise); a step somebody else holds is handed on only by them or a leader (409).
    The colleague must be someone `can_decide` allows: never the requester, never somebody
    barred by four eyes (400 with the reason)."""
    with transaction.atomic(durable=True):
        step, subject = _locked_step(step)
        policies.can_assign(by, step).enforce()
        _refuse_unless_open(step, "handed on")
        handing_on = step.assignee_id != to.pk and not policies.leads_side(by, step)
        if handing_on and (why := policies.held_by_another(by, step)):
            raise TransitionNotAllowed(why)
        allowed = policies.can_be_assigned(to, step)
        if not allowed:
            raise ValidationError({"to": [allowed.reason]})
        if step.assignee_id == to.pk:
            return step
        previous = step.assignee
        _hold(step, to)
        record_event(
            subject.obj,
            actor=by,
            kind="step_taken" if to.pk == by.pk else "step_assigned",
            payload={
                **_step_payload(step),
                "holder": str(to),
                "holder_username": to.username,
                "previous_holder": str(previous) if previous else "",
            },
        )
        if to.pk != by.pk:
            notices.step_assigned(step, by=by)
    return step
