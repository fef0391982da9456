"""Who may decide an approval step (SPEC §3, four eyes). Pages and API ask `can_decide`; the
lists of what awaits a reviewer ask its SQL form, `decidable_steps`, defined right below it so
the two cannot drift apart (tests/approvals/test_four_eyes_agreement.py proves they agree)."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Coalesce

from accounts.reviewers import ReviewerIdentity, reviewer_identity
from accounts.roles import ALL_GROUPS, CIO, CPO, has_role, is_admin, is_reviewer
from core import formats
from core.policies import ALLOWED, Verdict, deny
from intake.models import PurchaseRequest

from .models import JOINT_SIDES, ApprovalStep, Consultation, Side, StepKind, StepState
from .subjects import subject_of

OTHER_SIDE = {Side.IT: Side.PROCUREMENT, Side.PROCUREMENT: Side.IT}


@dataclass(frozen=True)
class DecisionVerdict(Verdict):
    """Allowed or not; when allowed through a delegation, whose rights the user acts with."""

    on_behalf_of: object = None


INACTIVE_REASON = (
    "Your Tandem account is switched off, so you can no longer decide or answer: ask a Tandem "
    "administrator if this is a mistake."
)


def _deny(reason: str) -> DecisionVerdict:
    return DecisionVerdict(False, reason)


def can_decide(
    user, step: ApprovalStep, identity: ReviewerIdentity | None = None
) -> DecisionVerdict:
    """The rules of segregation of duties, counting principals (who clicks and for whom):
    - the requester never decides a step of their own request, even as a delegate or admin, and
      nobody decides it with the requester's rights; for a vendor review, the same holds for
      whoever proposed the vendor or filed a request naming it;
    - a user decides only steps of groups they belong to, or hold by a delegation in its window;
    - the people involved on the `it` side of a request (or vendor review) and those on its
      `procurement` side are disjoint, in every round and across every delegation.
    - only an active person decides: leaving (deactivation) takes every right at once, and a
      delegation gives nothing once its delegator has left (accounts.reviewers).
    Every path that decides (page, API, e-mail link and reply, Slack, delegation) asks this at
    the moment of deciding, inside `decide_step`'s transaction.
    Whether the step is open is the state machine's business (409), not this policy's (403).
    Work after approval (placing the order, confirming receipt) is never decided here."""
    if not user.is_active:
        return _deny(INACTIVE_REASON)
    if step.kind == StepKind.ORDER:
        return _deny("This is the order, not a decision: procurement records it with the PO.")
    if step.kind == StepKind.RECEIPT:
        return _deny("This is the requester's confirmation of receipt, not a decision.")
    subject = subject_of(step)
    barred = barred_people(step)
    if user.pk in barred:
        return _deny(subject.barred_reason)
    identity = identity or reviewer_identity(user)
    holders = [
        principal
        for principal, group_ids in identity.principals
        if step.user_id == principal.pk or (step.group_id and step.group_id in group_ids)
    ]
    if not holders:
        return _deny(
            f"This step is for {step.reviewer_label}; you are not in it and hold no "
            "delegation for it."
        )
    other_side_people = _people_on_side(step.subject, OTHER_SIDE.get(step.side))
    reason = ""
    for principal in holders:
        if principal.pk in barred:
            reason = (
                "You hold this step only by the delegation of the person who filed it: "
                "they cannot decide it."
            )
        elif {user.pk, principal.pk} & other_side_people:
            other = Side(OTHER_SIDE[step.side]).label
            who = "You" if user.pk in other_side_people else f"{principal}"
            reason = (
                f"{who} already decided on the {other} side of this {subject.noun}; the "
                f"{Side(step.side).label} side needs a different person (four eyes)."
            )
        else:
            return DecisionVerdict(True, on_behalf_of=principal if principal != user else None)
    return _deny(reason)


def decidable_steps(user) -> QuerySet[ApprovalStep]:
    """`can_decide` in SQL: the steps `user` may decide, whatever their state."""
    return ApprovalStep.objects.filter(decidable(user))


def decidable(user) -> Q:
    """The condition of `decidable_steps`: one branch per principal the user can act for
    (themself and each open delegation), each with the same three rules as `can_decide`; only
    review steps are decided."""
    allowed = Q(pk__in=[])
    if not user.is_active:
        return allowed
    identity = reviewer_identity(user)
    for principal, group_ids in identity.principals:
        people = {user.pk, principal.pk}
        holds = Q(group_id__in=group_ids) | Q(user_id=principal.pk)
        requesters = PurchaseRequest.objects.filter(requester_id__in=people)
        barred = (
            Q(request__in=requesters.values("pk"))
            | Q(vendor__proposed_by_id__in=people)
            | Q(vendor__in=requesters.filter(vendor__isnull=False).values("vendor_id"))
        )
        other_side_decided = (
            ApprovalStep.objects.filter(side__in=JOINT_SIDES, kind=StepKind.REVIEW)
            .filter(
                Q(request__isnull=False, request=OuterRef("request"))
                | Q(vendor__isnull=False, vendor=OuterRef("vendor"))
            )
            .exclude(side=OuterRef("side"))
            .filter(Q(decided_by_id__in=people) | Q(decided_for_id__in=people))
        )
        four_eyes = Q(side__in=JOINT_SIDES) & Exists(other_side_decided)
        allowed |= holds & ~barred & ~four_eyes
    return allowed & Q(kind=StepKind.REVIEW)


def someone_may_decide(*, four_eyes: bool) -> Exists:
    """`can_decide` turned around, for a step (the outer query's row): whether any active member
    of its group, or its named reviewer, may decide it: not barred (the requester; for a vendor
    review whoever proposed the vendor or filed a request naming it) and not involved on the
    other side of the same request or vendor (four eyes). Delegates need not be counted: a
    delegate acts only with the rights of an active principal, under the same bars as the
    principal, so a step that no principal may decide no delegate may either. SPEC §3: no step
    ever waits on nobody (`workflow.send_to_leader`)."""
    User = get_user_model()
    members = User.groups.through.objects.filter(
        group_id=OuterRef("group_id"), user__is_active=True
    )
    named = User.objects.filter(pk=OuterRef("user_id"), is_active=True)
    return Exists(_may_decide(members, "user_id", four_eyes)) | Exists(
        _may_decide(named, "pk", four_eyes)
    )


def _may_decide(people: QuerySet, person: str, four_eyes: bool) -> QuerySet:
    """`people` (rows naming a person in their field `person`) without those barred from the
    outer query's step."""
    filed_naming_vendor = PurchaseRequest.objects.filter(
        requester_id=OuterRef(person), vendor_id=OuterRef(OuterRef("vendor_id"))
    )
    people = (
        people.exclude(**{person: Coalesce(OuterRef("request__requester_id"), Value(0))})
        .exclude(**{person: Coalesce(OuterRef("vendor__proposed_by_id"), Value(0))})
        .exclude(Exists(filed_naming_vendor))
    )
    if four_eyes:  # only the joint sides keep their people apart
        decided_other_side = (
            ApprovalStep.objects.filter(side__in=JOINT_SIDES, kind=StepKind.REVIEW)
            .filter(
                Q(request_id=OuterRef(OuterRef("request_id")))
                | Q(vendor_id=OuterRef(OuterRef("vendor_id")))
            )
            .exclude(side=OuterRef(OuterRef("side")))
            .filter(Q(decided_by_id=OuterRef(person)) | Q(decided_for_id=OuterRef(person)))
        )
        people = people.exclude(Exists(decided_other_side))
    return people


def nobody_may_decide(steps: QuerySet[ApprovalStep]) -> QuerySet[ApprovalStep]:
    """The review steps among `steps` that no active person may decide (see above)."""
    joint = Q(side__in=JOINT_SIDES)
    return steps.filter(kind=StepKind.REVIEW).filter(
        (joint & ~someone_may_decide(four_eyes=True))
        | (~joint & ~someone_may_decide(four_eyes=False))
    )


def nobody_may_decide_among(steps: list[ApprovalStep]) -> list[ApprovalStep]:
    """`nobody_may_decide` for the few open steps of one request or vendor, after a decision or
    a change of rights: the same rules worked out here with the helpers `can_decide` reads
    (`barred_people`, `other_side_people`), in two small queries, instead of compiling the SQL
    form's nested subqueries on every decision (most of a decision's time). The SQL form stays
    for the scans over every open step; tests/approvals/test_nobody_waits.py checks that after
    each decision the SQL form finds nothing left."""
    review = [s for s in steps if s.kind == StepKind.REVIEW and s.state == StepState.OPEN]
    if not review:
        return []
    User = get_user_model()
    members: dict[int, set[int]] = {}
    rows = User.groups.through.objects.filter(
        group_id__in={s.group_id for s in review if s.group_id}, user__is_active=True
    ).values_list("group_id", "user_id")
    for group_id, user_id in rows:
        members.setdefault(group_id, set()).add(user_id)
    named = {s.user_id for s in review if s.user_id}
    active_named = set(
        User.objects.filter(pk__in=named, is_active=True).values_list("pk", flat=True)
    ) if named else set()  # fmt: skip
    undecidable = []
    for step in review:
        people = members.get(step.group_id, set()) | ({step.user_id} & active_named)
        people = people - barred_people(step)
        if step.side in JOINT_SIDES:
            people -= other_side_people(step)
        if not people:
            undecidable.append(step)
    return undecidable


def work_items(user) -> Q:
    """The work after approval that is the user's, whatever its state: orders of the groups the
    user holds (their own, or by an open delegation: procurement places orders), and the
    confirmation of receipt of their own requests."""
    identity = reviewer_identity(user)
    return Q(kind=StepKind.ORDER, group_id__in=identity.all_group_ids) | Q(
        kind=StepKind.RECEIPT, user_id=user.pk
    )


def barred_people(step: ApprovalStep) -> set[int]:
    """Who never decides this step (the subject says who: the requester; for a vendor review,
    whoever proposed the vendor or filed a request naming it). Read once per subject object."""
    subject = subject_of(step)
    barred = getattr(subject.obj, "_four_eyes_barred", None)
    if barred is None:
        barred = subject.obj._four_eyes_barred = subject.barred_people()
    return barred


def _people_on_side(subject, side: str | None) -> set[int]:
    """Everyone who decided a step of `side` on this request or vendor, in any round, or for
    whom it was decided. Read once per subject."""
    if side is None:
        return set()
    decided = getattr(subject, "_four_eyes_people", None)
    if decided is None:
        decided = {}
        rows = subject.steps.filter(decided_by__isnull=False, kind=StepKind.REVIEW).values_list(
            "side", "decided_by_id", "decided_for_id"
        )
        for step_side, decided_by, decided_for in rows:
            decided.setdefault(step_side, set()).update({decided_by, decided_for} - {None})
        subject._four_eyes_people = decided
    return decided.get(side, set())


def other_side_people(step: ApprovalStep) -> set[int]:
    """Who decided (or had decided for them) the other joint side of the step's request or
    vendor: four eyes bars them from this step."""
    return _people_on_side(step.subject, OTHER_SIDE.get(step.side))


def can_preview_rules(user) -> Verdict:
    """Reviewers, leaders, finance and admins preview routing (SPEC §3)."""
    if is_reviewer(user):
        return ALLOWED
    return deny("Only admins and reviewers preview routing.")


def why_not_open(step: ApprovalStep) -> str:
    if step.state == StepState.WAITING:
        return f"Stage {step.stage} opens when the earlier stage is approved."
    if step.state == StepState.SUPERSEDED:
        if step.closed_because:
            return f"This step is already closed: {step.closed_because}."
        return "This step was closed when the round ended."
    by = f" by {step.decided_by}" if step.decided_by_id else ""
    return f"This step is already {step.get_state_display().lower()}{by}."


# Second opinions (SPEC §3). Nothing here feeds `can_decide` or `decidable_steps`: being asked
# for an opinion never gives a right to decide (tests/approvals/test_consultations.py).


def can_consult(user, step: ApprovalStep, identity: ReviewerIdentity | None = None) -> Verdict:
    """A reviewer asks a colleague for a second opinion on a step they may decide themself."""
    verdict = can_decide(user, step, identity)
    if verdict.allowed:
        return ALLOWED
    return deny(
        f"Only a reviewer who may decide this step asks a colleague about it. {verdict.reason}"
    )


def can_be_consulted(colleague, step: ApprovalStep, *, asked_by) -> Verdict:
    """The colleague is a reviewer or leader (IT, procurement, CIO, CPO, finance), active, not
    the one asking, and never the requester (for a vendor review: never whoever proposed the
    vendor or filed a request naming it)."""
    if colleague.pk == asked_by.pk:
        return deny("Ask somebody else: you cannot ask yourself for a second opinion.")
    if not colleague.is_active:
        return deny(f"{colleague} no longer uses Tandem.")
    if colleague.pk in barred_people(step):
        return deny(subject_of(step).colleague_barred_reason.format(colleague=colleague))
    if not has_role(colleague, *ALL_GROUPS):
        return deny(
            f"{colleague} is not a reviewer or leader: ask a member of IT, procurement, "
            "finance, the CIO or the CPO."
        )
    return ALLOWED


def can_answer(user, consultation: Consultation) -> Verdict:
    """Only the colleague who was asked answers, and only while they may still be asked: active,
    a reviewer or leader, never the requester (`can_be_consulted`, checked when answering)."""
    if consultation.colleague_id != user.pk:
        return deny(f"This question is for {consultation.colleague}: only they answer it.")
    if not user.is_active:
        return deny(INACTIVE_REASON)
    if user.pk in barred_people(consultation.step) or not has_role(user, *ALL_GROUPS):
        return deny(
            "You can no longer answer: you are not a reviewer or leader on this any more. "
            f"Tell {consultation.asked_by} so they ask a colleague."
        )
    return ALLOWED


# Work is assigned, not raced (issue #28): one person holds a step ("I'll take it", handed
# over by a colleague). Holding gives no right of its own: whoever holds a step may decide it
# because `can_decide` allows them, and colleagues `can_decide` allows still decide it.

SIDE_LEADERS = {Side.IT: CIO, Side.PROCUREMENT: CPO, Side.FINANCE: CPO}


def leads_side(user, step: ApprovalStep) -> bool:
    """An active admin, or the leader of the step's side (the CIO for IT, the CPO for
    procurement and finance): they hand out and take back their side's work."""
    if not user.is_active:
        return False
    return is_admin(user) or has_role(user, SIDE_LEADERS.get(step.side, CIO))


def held_by_another(user, step: ApprovalStep) -> str:
    """Why `user` cannot take `step` over, when another person holds it; "" when nobody else
    does. Whoever holds it hands it on, or a colleague decides it anyway. Somebody who left
    (switched off) holds nothing: their steps are free to take."""
    if not step.assignee_id or step.assignee_id == user.pk or not step.assignee.is_active:
        return ""
    return (
        f"{step.assignee} already took this on {formats.when(step.assigned_at)}; ask them to "
        "hand it to you, or decide it anyway."
    )


def can_take(user, step: ApprovalStep, identity: ReviewerIdentity | None = None) -> Verdict:
    """ "I'll take it": only someone who may decide the step takes it."""
    verdict = can_decide(user, step, identity)
    if verdict.allowed:
        return ALLOWED
    return deny(f"Only a reviewer who may decide this step takes it. {verdict.reason}")


def can_release(user, step: ApprovalStep) -> Verdict:
    """Only whoever holds the step lets it go, or the leader of its side or an admin."""
    if not step.assignee_id:
        return ALLOWED  # nothing to release: the service says so
    if step.assignee_id == user.pk and user.is_active:
        return ALLOWED
    if leads_side(user, step):
        return ALLOWED
    return deny(
        f"{step.assignee} holds this step: only they, the {Side(step.side).label} side's "
        "leader or an admin release it."
    )


def can_assign(user, step: ApprovalStep, identity: ReviewerIdentity | None = None) -> Verdict:
    """Handing a step to a colleague: whoever holds it, a reviewer who may decide it, or the
    leader of its side or an admin."""
    if step.assignee_id == user.pk and user.is_active:
        return ALLOWED
    if leads_side(user, step):
        return ALLOWED
    verdict = can_decide(user, step, identity)
    if verdict.allowed:
        return ALLOWED
    return deny(
        "Only whoever holds this step, a reviewer who may decide it, or the leader of its side "
        f"hands it to a colleague. {verdict.reason}"
    )


def can_be_assigned(person, step: ApprovalStep) -> Verdict:
    """A step is handed only to someone who may decide it (`can_decide`): never the requester
    (for a vendor review, whoever proposed the vendor or filed a request naming it), never
    somebody barred by four eyes, never somebody outside its reviewers. Said in the third
    person, for whoever hands it."""
    if not person.is_active:
        return deny(f"{person} no longer uses Tandem.")
    subject = subject_of(step)
    if person.pk in barred_people(step):
        if step.request_id:
            return deny(f"{person} filed this request: the requester never decides its steps.")
        return deny(
            f"{person} proposed this vendor or named it on a request: they do not decide its "
            "review."
        )
    if can_decide(person, step).allowed:
        return ALLOWED
    if person.pk in other_side_people(step):
        other = Side(OTHER_SIDE[step.side]).label
        return deny(
            f"{person} already decided on the {other} side of this {subject.noun}; the "
            f"{Side(step.side).label} side needs a different person (four eyes)."
        )
    return deny(f"{person} cannot decide this step: it is for {step.reviewer_label}.")


# Four eyes on the rules themselves (SPEC §3, issue #32). Admin rights are not delegated (an
# out-of-office delegation gives a reviewer group's rights, never the admin's): an admin
# approves a rule change in their own name, and the author of a change never approves it,
# whoever's delegate they are.


def can_manage_rules(user) -> Verdict:
    """Admins (staff) see the rules' versions, draft changes and backtest them."""
    if is_admin(user):
        return ALLOWED
    return deny("Only admins change the routing rules.")


def can_approve_rule_draft(user, draft) -> Verdict:
    """A second admin approves a rule change: never its author, and never the admin who
    published it in an emergency (their approval is the one still missing)."""
    verdict = can_manage_rules(user)
    if not verdict:
        return verdict
    if draft.author_id == user.pk:
        return deny("You wrote this rule change: a second admin approves it (four eyes).")
    if draft.emergency_by_id == user.pk:
        return deny(
            "You published this rule change in an emergency: a second admin approves it "
            "(four eyes)."
        )
    return ALLOWED
