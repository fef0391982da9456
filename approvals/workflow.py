"""The approval workflow: the effects of review on requests and vendors, in one module.
Routing (`routing.py`) decides which steps a request gets; this module does it: creates the
steps, opens stages, settles the request or vendor when a round ends, and runs submit and
resubmit, which hand a request from intake to review (SPEC §2, §3, §5). Each function runs in
its caller's transaction unless it is the outermost service of a user action."""

from dataclasses import replace

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, Max, Value, When
from django.utils import timezone
from django_fsm import can_proceed

from accounts import roles
from audit.services import record_event
from audit.transitions import PAST_TENSE, apply_transition, ensure_can
from budgets import services as budgets
from budgets.models import OverrunAction
from calendars.selectors import working_hours_by_group
from core.errors import TransitionNotAllowed
from core.validation import check_text
from intake import policies as intake_policies
from intake.models import ExchangeRate, PurchaseRequest, State
from intake.services import locked_request, submission_errors
from notifications.services import mark_done
from vendors import policies as vendor_policies
from vendors.models import Vendor, VendorStatus

from . import assignment, carry_over, notices, policies, rule_versions
from .models import (
    LEADER_OF_SIDE,
    MEMBER_ORDER,
    ApprovalStep,
    ProcessSettings,
    Side,
    StepKind,
    StepState,
    StoppedClock,
)
from .routing import PlannedStep, RequestFacts, budget_owner_step, plan, plan_vendor_review
from .subjects import subject_kind, subject_of


def submit_request(purchase_request: PurchaseRequest, *, by) -> PurchaseRequest:
    """Sends a complete draft to review and routes it to its approval steps."""
    return _enter_review(purchase_request, by=by, transition="submit")


def resubmit_request(purchase_request: PurchaseRequest, *, by) -> PurchaseRequest:
    """Sends a request with changes requested back to review, with fresh steps."""
    return _enter_review(purchase_request, by=by, transition="resubmit")


def send_to_review(purchase_request: PurchaseRequest, *, by) -> PurchaseRequest:
    """The form's "Submit": a draft is submitted, a request that came back with changes
    requested is resubmitted (the state machine's own transitions say which)."""
    if purchase_request.state == State.CHANGES_REQUESTED:
        return resubmit_request(purchase_request, by=by)
    return submit_request(purchase_request, by=by)


def _enter_review(purchase_request: PurchaseRequest, *, by, transition: str) -> PurchaseRequest:
    with transaction.atomic(durable=True):
        purchase_request = locked_request(purchase_request)
        intake_policies.can_act_as_requester(by, purchase_request).enforce()
        ensure_can(purchase_request, transition)
        # Routing compares the cost in the base currency at today's rate.
        purchase_request.total_cost_base = ExchangeRate.to_base(
            purchase_request.total_cost, purchase_request.currency
        )
        errors = submission_errors(purchase_request)
        try:  # the converted total must fit the amount bounds too
            purchase_request.clean_fields(
                exclude=[
                    f.name for f in PurchaseRequest._meta.fields if f.name != "total_cost_base"
                ]
            )
        except ValidationError as error:
            errors.setdefault("total_cost", []).extend(
                f"In {settings.TANDEM_BASE_CURRENCY}: {message}"
                for message in error.message_dict["total_cost_base"]
            )
        # The budget rows stay locked to the end: a request submitted at the same moment is
        # counted after this one, never beside it.
        budget_check = budgets.check_request(purchase_request, lock=True)
        errors.update(budgets.submit_blocked_errors(budget_check, purchase_request, reader=by))
        if errors:
            raise ValidationError(errors)
        purchase_request.submitted_at = timezone.now()
        apply_transition(purchase_request, transition, by=by)
        route_request(
            purchase_request, by=by, budget_check=budget_check, first=transition == "submit"
        )
    return purchase_request


def withdraw_request(purchase_request: PurchaseRequest, *, by, reason: str = ""):
    """The requester (or an admin) withdraws a request until it is decided. Its open and waiting
    steps close with it, so nobody is asked, or reminded, to decide a withdrawn request."""
    check_text(reason=reason)
    with transaction.atomic(durable=True):
        purchase_request = locked_request(purchase_request)
        intake_policies.can_act_as_requester(by, purchase_request).enforce()
        apply_transition(purchase_request, "withdraw", by=by, payload={"reason": reason})
        _supersede(
            purchase_request.steps.select_for_update().filter(
                state__in=[StepState.OPEN, StepState.WAITING]
            ),
            because=f"{by} withdrew the request",
        )
    return purchase_request


def start_review(vendor: Vendor, *, by) -> Vendor:
    """Starts the joint review (IT security and procurement due diligence) from the vendor page,
    with the steps the vendor-review rules give."""
    vendor_policies.can_manage_vendor(by).enforce()
    with transaction.atomic(durable=True):
        vendor = Vendor.objects.select_for_update().get(pk=vendor.pk)
        if not review_can_start(vendor):
            if vendor.status == VendorStatus.UNDER_REVIEW:
                raise TransitionNotAllowed(f"The joint review of {vendor} is already under way.")
            ensure_can(vendor, "start_review")
        return start_vendor_review(vendor, plan_vendor_review(vendor), by=by)


def review_can_start(vendor: Vendor) -> bool:
    """A review starts for a prospective or rejected vendor, and for one marked under review
    that has no review step waiting or open (nobody could decide it otherwise)."""
    if vendor.status == VendorStatus.UNDER_REVIEW:
        return not review_in_progress(vendor)
    return can_proceed(vendor.start_review)


def review_in_progress(vendor) -> bool:
    """Whether the vendor has a review step still waiting or open."""
    return vendor.steps.filter(state__in=(StepState.WAITING, StepState.OPEN)).exists()


def route_request(purchase_request, *, by, budget_check=None, first=False) -> None:
    """Snapshots the plan into approval steps for a new round and opens the first stage, or
    approves at once when an auto-approval rule matches. When the vendor must be approved first,
    the steps wait for the vendor's joint review (started here if it is not under way). On a
    resubmit, approvals carry over as `carry_over` allows. Runs in submit's transaction.
    `first`: a draft's first submission, whose round is the first without asking (a request
    only leaves its draft state by submit, and its steps are made only here)."""
    budget_check = budget_check or budgets.check_request(purchase_request, lock=True)
    if budget_check.over_budget:
        budgets.record_overrun(purchase_request, budget_check, by=by, moment="submit")
    routing = plan(RequestFacts.of(purchase_request, budget_check))
    _record_rules_version(purchase_request)
    if routing.auto_approved_by is not None:
        apply_transition(
            purchase_request,
            "approve",
            by=by,
            payload={
                "auto_approved_by": routing.auto_approved_by.name,
                "reasons": routing.auto_approval_reasons,
            },
        )
        open_order(purchase_request)
        return
    vendor = None
    if routing.vendor_steps:
        vendor = start_vendor_review(
            vendor_for_request(purchase_request, by=by),
            routing.vendor_steps,
            by=by,
            payload={"request": purchase_request.number},
        )
    last_round = 0 if first else _last_round(purchase_request)
    new_round = last_round + 1
    snapshot = carry_over.take_snapshot(purchase_request, round=new_round)
    carrying = carry_over.plan_carry_over(
        purchase_request, previous_round=last_round, snapshot=snapshot
    )
    steps = create_steps(routing.steps, request=purchase_request, round=new_round)
    record_event(
        purchase_request,
        actor=by,
        kind="routed",
        payload={
            **_routed(routing.steps, round=new_round),
            "vendor_review": vendor.name if vendor is not None else None,
            "rules_version": getattr(purchase_request.rules_version, "number", None),
        },
    )
    _carry_over(purchase_request, steps, carrying, by=by)
    waiting = [step for step in steps if step.state == StepState.WAITING]
    if vendor is not None:
        # Its requester may not decide the vendor's review now (four eyes): if they were the
        # last who could, the review's step goes to its leader.
        send_open_steps_to_leaders(vendor.steps.all())
        return
    if waiting:
        verb = "resubmitted" if last_round else "submitted"
        open_stage(steps, stage=min(step.stage for step in waiting), because=f"{by} {verb} it")
    else:
        # Every step of the new round carried over: the round is approved as it starts.
        apply_transition(
            purchase_request, "approve", by=by, payload={"carried_over": True, "round": new_round}
        )
        notices.request_decided(purchase_request, outcome=PAST_TENSE["approve"], round=new_round)
        open_order(purchase_request)


def _record_rules_version(purchase_request) -> None:
    """The request remembers the rules' version it was routed under (SPEC §3), shown beside
    its steps and compared against by the backtest of a rule change."""
    version = rule_versions.latest_version()
    purchase_request.rules_version = version
    PurchaseRequest.objects.filter(pk=purchase_request.pk).update(rules_version=version)


def _carry_over(purchase_request, steps, carrying, *, by) -> None:
    """Marks the new round's steps whose approval carries over, and says so in the timeline;
    or records the material change that reopened every step."""
    if carrying.previous_round and carrying.enabled and carrying.material_changes:
        record_event(
            purchase_request,
            actor=by,
            kind="material_change",
            payload={"round": carrying.previous_round + 1, "changes": carrying.material_changes},
        )
    for step in steps:
        approval = carrying.approval_for(step)
        if approval is None:
            continue
        step.carry_over(approval=approval)
        step.save()
        record_event(
            purchase_request,
            actor=by,
            kind="approval_carried_over",
            payload={
                "step": step.pk,
                "reviewer": step.reviewer_label,
                "side": step.side,
                "stage": step.stage,
                "round": step.round,
                "from_round": approval.round,
                "approved_by": str(approval.decided_by),
                "approved_for": str(approval.decided_for) if approval.decided_for_id else None,
            },
        )


def create_steps(planned_steps: list[PlannedStep], *, round: int, request=None, vendor=None):
    return ApprovalStep.objects.bulk_create(
        ApprovalStep(
            request=request,
            vendor=vendor,
            round=round,
            stage=planned.stage,
            side=planned.side,
            group=planned.group,
            user=planned.user,
            rule=planned.rule,
            rule_name=planned.rule_name,
            reasons=planned.reasons,
            sla_hours=planned.sla_hours,
            repeat_every_hours=planned.repeat_every_hours,
            escalate_after_hours=planned.escalate_after_hours,
            escalation_group=planned.escalation_group,
            escalation_user=planned.escalation_user,
        )
        for planned in planned_steps
    )


def vendor_for_request(purchase_request, *, by):
    """The request's vendor; a proposed one becomes a prospective vendor record (or the existing
    vendor of that name) and the request names it from now on."""
    if purchase_request.vendor_id:
        return purchase_request.vendor
    vendor, created = Vendor.objects.get_or_create(
        name__iexact=purchase_request.proposed_vendor_name,
        defaults={
            "name": purchase_request.proposed_vendor_name,
            "website": purchase_request.proposed_vendor_website,
            "proposed_by": purchase_request.requester,
        },
    )
    if created:
        record_event(
            vendor, actor=by, kind="proposed", payload={"request": purchase_request.number}
        )
    purchase_request.vendor = vendor
    purchase_request.proposed_vendor_name = purchase_request.proposed_vendor_website = ""
    purchase_request.save()
    return vendor


def start_vendor_review(vendor, planned_steps: list[PlannedStep], *, by, payload=None):
    """Puts the vendor under joint review with these steps, unless a review is under way.
    A vendor marked under review without a live step (set by hand, or imported) gets its
    steps now: otherwise nobody could ever approve it, and requests naming it would wait
    for ever."""
    vendor = Vendor.objects.select_for_update().get(pk=vendor.pk)
    if vendor.status == VendorStatus.UNDER_REVIEW:
        if review_in_progress(vendor):
            return vendor
        record_event(vendor, actor=by, kind="review_steps_added", payload=payload)
    else:
        apply_transition(vendor, "start_review", by=by, payload=payload)
    last_round = vendor.steps.aggregate(last=Max("round"))["last"] or 0
    steps = create_steps(planned_steps, vendor=vendor, round=last_round + 1)
    record_event(
        vendor,
        actor=by,
        kind="routed",
        payload=_routed(planned_steps, round=last_round + 1),
    )
    if payload and payload.get("request"):
        because = f"{by} filed {payload['request']}, which names this vendor"
    else:
        because = f"{by} started the vendor's review"
    open_stage(steps, stage=min(step.stage for step in steps), because=because)
    return vendor


def _routed(planned_steps: list[PlannedStep], *, round: int) -> dict:
    """The audit payload of a routing: which steps, and why each."""
    return {
        "round": round,
        "steps": [
            {"reviewer": s.reviewer_label, "side": s.side, "stage": s.stage, "why": s.reasons}
            for s in planned_steps
        ],
    }


def open_stage(steps: list[ApprovalStep], *, stage: int, because: str = "") -> list[ApprovalStep]:
    """Opens the waiting steps of `stage`: their SLA clock starts now, in working hours of
    each reviewer group's calendar, or resumes where a changes request stopped it. `because`
    tells the reviewers who opened it and how ("Paul Pruitt approved stage 1")."""
    now = timezone.now()
    opened = [s for s in steps if s.stage == stage and s.state == StepState.WAITING]
    if not opened:
        return opened
    to_leader = _steps_nobody_may_decide(opened)
    calendars = working_hours_by_group({s.group_id for s in opened})
    stopped = stopped_clocks(opened)
    for step in opened:
        step.open(at=now, calendar=calendars[step.group_id], resumes=stopped.get(_clock_key(step)))
    # One statement for the whole stage, safe without the state check of `save`: the caller
    # holds the request's or vendor's row lock. Then one for all their reviewers' notices.
    _update_together(opened, OPENING_FIELDS + (LEADER_FIELDS if to_leader else []))
    for step in opened:
        step._update_initial_state()  # as `save` does: a later save expects "open" in the row
    for step in to_leader:
        _record_sent_to_leader(step)
    assignment.assign_opened(opened)  # the groups that assign new steps automatically
    notices.steps_opened(opened, because=because, calendars=calendars)
    return opened


# No step waits on nobody (SPEC §3)

# What sending a step to its side's leader changes.
LEADER_FIELDS = ["group", "user", "leader_because"]


def _steps_nobody_may_decide(steps: list[ApprovalStep]) -> list[ApprovalStep]:
    """Of `steps` (stored, about to open), those nobody of their group may decide, sent to their
    side's leader in memory (the caller saves them). One query; more only for those sent."""
    nobody = set(
        policies.nobody_may_decide(
            ApprovalStep.objects.filter(pk__in=[s.pk for s in steps])
        ).values_list("pk", flat=True)
    )
    return [step for step in steps if step.pk in nobody and _to_leader(step)]


def _to_leader(step: ApprovalStep) -> bool:
    """Gives the step to its side's leader (the CIO for IT, the CPO for procurement and
    finance) and says why on the step. Not when no leader may decide it either (none yet, or
    barred too), nor when the leader already has their own step beside it: the operations page
    then lists it for an admin (operations.selectors.steps_nobody_may_decide)."""
    leader = Group.objects.filter(name=LEADER_OF_SIDE[step.side]).first()
    if leader is None or leader.pk == step.group_id:
        return False
    beside = {"round": step.round, "stage": step.stage, "kind": step.kind, "group": leader}
    if subject_of(step).obj.steps.filter(**beside).exists():
        return False
    why = _why_nobody_may_decide(step)
    was = step.group, step.user
    step.sent_from = step.reviewer_label
    step.group, step.user = leader, None
    leaders = list(leader.user_set.filter(is_active=True).order_by(*MEMBER_ORDER))
    deciding = [person for person in leaders if policies.can_decide(person, step).allowed]
    if not deciding:
        step.group, step.user = was
        return False
    label = roles.group_label(leader.name)
    who = f"{deciding[0]} ({label})" if len(deciding) == 1 else f"the {label}"
    step.leader_because = f"{why}, so {who} decides."[:500]
    return True


def _why_nobody_may_decide(step: ApprovalStep) -> str:
    """In people's words: "Paul Pruitt proposed this vendor or named it on a request"."""
    if step.user_id:
        members = [step.user] if step.user.is_active else []
    else:
        members = list(step.group.user_set.filter(is_active=True).order_by(*MEMBER_ORDER))
    if not members:
        return f"Nobody is left in {step.reviewer_label}"
    barred = policies.barred_people(step)
    subject = subject_of(step)
    reasons = []
    filed = [str(person) for person in members if person.pk in barred]
    if filed:
        reasons.append(f"{_and(filed)} {subject.barred_phrase}")
    decided = [str(person) for person in members if person.pk not in barred]
    if decided:
        other = Side(policies.OTHER_SIDE[step.side]).label
        reasons.append(f"{_and(decided)} decided on its {other} side (four eyes)")
    return "; ".join(reasons)


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _record_sent_to_leader(step: ApprovalStep) -> None:
    record_event(
        step.subject,
        actor=None,
        kind="step_sent_to_leader",
        payload={
            "step": step.pk,
            "reviewer": step.sent_from,
            "leader": step.reviewer_label,
            "side": step.side,
            "stage": step.stage,
            "because": step.leader_because,
        },
    )


def send_open_steps_to_leaders(steps) -> list[ApprovalStep]:
    """The open steps among `steps` (a queryset) that nobody may decide any more (after a
    decision on the other side, somebody leaving, a group or delegation change) go to their
    side's leader at once, who is told. Runs in the caller's transaction, which holds the
    subjects' locks."""
    moved = []
    open_steps = steps.filter(state=StepState.OPEN).select_related(
        "group", "user", "request", "vendor"
    )
    for step in policies.nobody_may_decide_among(list(open_steps)):
        if not _to_leader(step):
            continue
        # Whoever held it may not decide it any more: the leader's step is nobody's yet.
        ApprovalStep.objects.filter(pk=step.pk).update(
            group=step.group,
            user=None,
            leader_because=step.leader_because,
            assignee=None,
            assigned_at=None,
        )
        mark_done([notices.step_topic(step)], note="Sent to the side's leader")
        _record_sent_to_leader(step)
        calendars = working_hours_by_group({step.group_id})
        notices.steps_opened([step], because=step.leader_because.rstrip("."), calendars=calendars)
        moved.append(step)
    return moved


def send_undecidable_steps_to_leaders() -> int:
    """Every open step that nobody may decide goes to its leader, each in its own transaction
    with its subject locked as a decision would lock it. Called when people's rights shrink
    (accounts.hooks: leaving, a group left, a delegation ended)."""
    moved = 0
    waiting = policies.nobody_may_decide(ApprovalStep.objects.filter(state=StepState.OPEN))
    for step in waiting.select_related("request", "vendor"):
        with transaction.atomic():
            subject_kind(step).locked(step)
            moved += len(send_open_steps_to_leaders(ApprovalStep.objects.filter(pk=step.pk)))
    return moved


def _update_together(steps: list[ApprovalStep], fields: list[str]) -> None:
    """bulk_update in one UPDATE, with a CASE over the steps only for the fields whose values
    differ between them: steps opened together mostly share them all, and bulk_update's CASE
    per field and step cost more to build than the rest of the stage's opening."""
    update = {}
    for name in fields:
        field = ApprovalStep._meta.get_field(name)
        values = [getattr(step, field.attname) for step in steps]
        if all(value == values[0] for value in values):
            update[field.attname] = values[0]
        else:
            whens = [
                When(pk=step.pk, then=Value(value, output_field=field))
                for step, value in zip(steps, values, strict=True)
            ]
            update[field.attname] = Case(*whens, output_field=field)
    ApprovalStep.objects.filter(pk__in=[step.pk for step in steps]).update(**update)


# What `ApprovalStep.open` sets.
OPENING_FIELDS = [
    "state",
    "opened_at",
    "due_at",
    "escalate_at",
    "escalated_at",
    "clock_resumed_from",
    "next_alert_at",
]


def _clock_key(step: ApprovalStep):
    return (step.kind, step.side, step.stage, step.group_id, step.user_id)


def stopped_clocks(steps: list[ApprovalStep]) -> dict:
    """The clocks these steps of a later round resume (SPEC §8a: the clock stops while the
    request waits on its requester or a vendor review). A step's clock was stopped when it was
    open and a changes request ended its round: the same reviewer's step of a later round
    continues it, its due time moved by the working time the request spent with its requester
    (and waiting for a vendor review). One query."""
    request_ids = {s.request_id for s in steps if s.request_id is not None and s.round > 1}
    if not request_ids:
        return {}
    earlier = ApprovalStep.objects.filter(
        request_id__in=request_ids,
        round__lt=max(s.round for s in steps),
        opened_at__isnull=False,
    ).order_by("round", "id")
    returned_at = {}  # round -> when the request went back to its requester
    latest = {}  # clock key -> the reviewer's latest opened step before this round
    for step in earlier:
        if step.state == StepState.CHANGES_REQUESTED:
            returned_at[step.round] = step.decided_at
        latest[_clock_key(step)] = step
    return {
        key: StoppedClock(
            step=step,
            stopped_at=returned_at[step.round],
            due_at=step.due_at,
            escalate_at=step.escalate_at,
            escalated_at=step.escalated_at,
        )
        for key, step in latest.items()
        if step.state == StepState.SUPERSEDED and step.round in returned_at
    }


# Settling a round


def settle(subject, decided: ApprovalStep, *, by, on_behalf_of) -> None:
    """Moves the request or vendor on after a decision on one of its steps."""
    outcome = _round_outcome(subject, decided, by=by)
    settle_subject = {"request": _settle_request, "vendor": _settle_vendor}
    settle_subject[subject_kind(decided).field](
        subject, decided, outcome, by=by, on_behalf_of=on_behalf_of
    )


def _round_outcome(subject, decided: ApprovalStep, *, by) -> str:
    """What the decision means for its round: "pending" while steps remain; "rejected" or
    "changes_requested" at once (the other open steps are superseded); "approved" when the last
    step is; a completed stage opens the next one. Shared by requests and vendors."""
    round_steps = list(subject.steps.filter(round=decided.round, kind=StepKind.REVIEW))
    if decided.state in (StepState.REJECTED, StepState.CHANGES_REQUESTED):
        verb = "rejected" if decided.state == StepState.REJECTED else "asked for changes at"
        _supersede(round_steps, because=f"{by} {verb} the {decided.reviewer_label} step")
        return decided.state
    if any(s.stage == decided.stage and s.state != StepState.APPROVED for s in round_steps):
        return "pending"  # other reviewers of this stage still decide
    waiting = [s for s in round_steps if s.state == StepState.WAITING]
    if not waiting:
        return StepState.APPROVED
    next_stage = min(s.stage for s in waiting)
    comment = f" (“{decided.comment}”)" if decided.comment else ""
    opened = open_stage(
        waiting, stage=next_stage, because=f"{by} approved stage {decided.stage}{comment}"
    )
    record_event(
        subject,
        actor=by,
        kind="stage_opened",
        payload={"stage": next_stage, "reviewers": [s.reviewer_label for s in opened]},
    )
    return "pending"


def _supersede(steps, *, because: str) -> None:
    """Closes the open and waiting steps without a decision of their own, saying why; every
    channel's message about them is settled (`notices.steps_closed`)."""
    closed = []
    for step in steps:
        if step.state in (StepState.OPEN, StepState.WAITING):
            step.supersede(because=because)
            step.save()
            closed.append(step)
    notices.steps_closed(closed)


def _settle_request(purchase_request, decided, outcome: str, *, by, on_behalf_of) -> None:
    """The request follows its steps: the one place where that happens."""
    if outcome == StepState.APPROVED and _budget_owner_step_added(purchase_request, decided, by=by):
        return
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
            by=by,
            on_behalf_of=on_behalf_of,
            step=decided,
        )
        if transition == "approve":
            open_order(purchase_request)


def _budget_owner_step_added(purchase_request, decided, *, by) -> bool:
    """The approval gate on budgets: approving must not push what is committed past a budget
    unnoticed. With the budget rows locked (so two approvals at the same moment count one after
    the other), an approval that would overrun adds the budget owner's step (unless the owner
    already approved this round) and the request stays in review; a budget set to warn only is
    told, and the request is approved."""
    check = budgets.check_request(purchase_request, lock=True, committed_only=True)
    if not check.over_budget:
        return False
    round_steps = purchase_request.steps.filter(round=decided.round, kind=StepKind.REVIEW)
    owner_approved = round_steps.filter(
        rule_name=budgets.OWNER_STEP_NAME, state=StepState.APPROVED
    ).exists()
    if owner_approved:
        return False
    budgets.record_overrun(purchase_request, check, by=by, moment="approval")
    if check.action == OverrunAction.WARN:
        return False
    facts = RequestFacts.of(purchase_request, check)
    last_stage = round_steps.aggregate(last=Max("stage"))
    planned = budget_owner_step(
        replace(facts, budget_needs_owner=True), after_stage=last_stage["last"] or 1
    )
    steps = create_steps([planned], request=purchase_request, round=decided.round)
    open_stage(steps, stage=planned.stage, because="the approval would take a budget over")
    record_event(
        purchase_request,
        actor=by,
        kind="stage_opened",
        payload={"stage": planned.stage, "reviewers": [planned.reviewer_label]},
    )
    return True


def _settle_vendor(vendor, decided, outcome: str, *, by, on_behalf_of) -> None:
    """An approved vendor releases the requests that waited for it; a rejected one sends them
    back to their requesters to choose another vendor."""
    if outcome == StepState.APPROVED:
        transition = "approve_with_conditions" if vendor.conditions else "approve"
        apply_transition(vendor, transition, by=by, on_behalf_of=on_behalf_of)
        for purchase_request in _requests_waiting_for(vendor):
            waiting = list(purchase_request.steps.filter(state=StepState.WAITING))
            if not waiting:
                continue
            opened = open_stage(
                waiting,
                stage=min(s.stage for s in waiting),
                because=f"{by} approved the vendor {vendor.name}",
            )
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
            _supersede(
                purchase_request.steps.filter(state=StepState.WAITING),
                because=f"the vendor {vendor.name} was not approved",
            )
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


# The work after approval (SPEC §3): the order is procurement's, the receipt the requester's.


def _last_round(purchase_request) -> int:
    return carry_over.last_round(purchase_request)


def open_order(purchase_request) -> ApprovalStep:
    """An approved request becomes procurement's work item "to order", with the due time,
    reminders and escalation of the process settings; procurement is told. Runs in the
    transaction that approved the request."""
    config = ProcessSettings.current()
    step = ApprovalStep.objects.create(
        request=purchase_request,
        kind=StepKind.ORDER,
        round=max(_last_round(purchase_request), 1),
        stage=1,
        side=Side.PROCUREMENT,
        group=Group.objects.get(name=roles.PROCUREMENT),
        rule_name="Order after approval",
        reasons=["approved requests are ordered by procurement"],
        sla_hours=config.order_sla_hours,
        repeat_every_hours=config.order_repeat_every_hours,
        escalate_after_hours=config.order_escalate_after_hours,
        escalation_group=config.order_escalation_group,
    )
    step.open(at=timezone.now())
    step.save()
    notices.work_item_opened(step)
    return step


def open_receipt(purchase_request) -> ApprovalStep:
    """After the order, confirming receipt is the requester's item, with a reminder."""
    config = ProcessSettings.current()
    step = ApprovalStep.objects.create(
        request=purchase_request,
        kind=StepKind.RECEIPT,
        round=max(_last_round(purchase_request), 1),
        stage=1,
        side="",
        user=purchase_request.requester,
        rule_name="Receipt after the order",
        reasons=["the requester confirms what was ordered has arrived"],
        sla_hours=config.receipt_sla_hours,
        repeat_every_hours=config.receipt_repeat_every_hours,
        escalate_after_hours=0,
    )
    step.open(at=timezone.now())
    step.save()
    notices.work_item_opened(step)
    return step


def _complete(purchase_request, kind: str, *, by) -> None:
    """The work item is done; its notices ("to order", reminders) are settled for everyone."""
    for step in purchase_request.steps.select_for_update().filter(kind=kind, state=StepState.OPEN):
        step.complete(by=by, at=timezone.now())
        step.save()
        notices.steps_closed([step])


def mark_ordered(purchase_request: PurchaseRequest, *, by, po_number: str, ordered_on):
    """Procurement records the purchase order of an approved request: its order item is done and
    confirming receipt becomes the requester's item. Not durable: the API runs it inside the
    transaction that records its Idempotency-Key."""
    with transaction.atomic():
        purchase_request = locked_request(purchase_request)
        intake_policies.can_mark_ordered(by, purchase_request).enforce()
        apply_transition(
            purchase_request,
            "mark_ordered",
            by=by,
            kwargs={"po_number": po_number, "ordered_on": ordered_on},
            payload={"po_number": po_number, "ordered_on": ordered_on},
        )
        _complete(purchase_request, StepKind.ORDER, by=by)
        open_receipt(purchase_request)
    return purchase_request


def close_request(purchase_request: PurchaseRequest, *, by, received_on):
    """Records receipt of what was ordered; the request is closed and its receipt item done."""
    with transaction.atomic(durable=True):
        purchase_request = locked_request(purchase_request)
        intake_policies.can_close(by, purchase_request).enforce()
        apply_transition(
            purchase_request,
            "close",
            by=by,
            kwargs={"received_on": received_on},
            payload={"received_on": received_on},
        )
        _complete(purchase_request, StepKind.RECEIPT, by=by)
    return purchase_request
