"""Who may decide an approval step (SPEC §3, four eyes). Pages and API ask `can_decide`."""

from dataclasses import dataclass

from django.utils import timezone

from core.policies import Verdict

from . import selectors
from .models import ApprovalStep, Side, StepState
from .selectors import ReviewerIdentity, reviewer_identity

OTHER_SIDE = {Side.IT: Side.PROCUREMENT, Side.PROCUREMENT: Side.IT}


@dataclass(frozen=True)
class DecisionVerdict(Verdict):
    """Allowed or not; when allowed through a delegation, whose rights the user acts with."""

    on_behalf_of: object = None


def _deny(reason: str) -> DecisionVerdict:
    return DecisionVerdict(False, reason)


def can_decide(
    user, step: ApprovalStep, identity: ReviewerIdentity | None = None
) -> DecisionVerdict:
    """The rules of segregation of duties:
    - the requester never decides a step of their own request, even as a delegate or admin;
    - the `it` side and the `procurement` side of one request are decided by different people;
    - a user decides only steps of groups they belong to, or hold by a delegation in its window.
    Whether the step is open is the state machine's business (409), not this policy's (403).
    Vendor reviews follow the same rules, but for the requester's."""
    purchase_request = step.request if step.request_id else None
    if purchase_request is not None and purchase_request.requester_id == user.pk:
        return _deny("You filed this request: the requester never decides its steps.")
    identity = identity or reviewer_identity(user, timezone.now())
    principal = identity.principal_for(step)
    if principal is None:
        return _deny(
            f"This step is for {step.reviewer_label}; you are not in it and hold no "
            "delegation for it."
        )
    if purchase_request is not None and principal.pk == purchase_request.requester_id:
        return _deny(
            "You hold this step only by the requester's delegation: they cannot decide it."
        )
    other = OTHER_SIDE.get(step.side)
    if other and _decided_side(step.subject, user, other):
        what = "request" if purchase_request is not None else "vendor review"
        return _deny(
            f"You decided the {Side(other).label} side of this {what}; the "
            f"{Side(step.side).label} side needs a different person (four eyes)."
        )
    return DecisionVerdict(True, on_behalf_of=principal if principal.pk != user.pk else None)


def _decided_side(subject, user, side: str) -> bool:
    """Whether `user` decided a step of `side` on this request or vendor (any round)."""
    decided = getattr(subject, "_decided_by_side", None)
    if decided is None:
        decided = set(
            subject.steps.filter(decided_by__isnull=False).values_list("side", "decided_by")
        )
        subject._decided_by_side = decided
    return (side, user.pk) in decided


def why_not_open(step: ApprovalStep) -> str:
    if step.state == StepState.WAITING:
        return f"Stage {step.stage} opens when the earlier stage is approved."
    if step.state == StepState.SUPERSEDED:
        return "This step was closed when the round ended."
    by = f" by {step.decided_by}" if step.decided_by_id else ""
    return f"This step is already {step.get_state_display().lower()}{by}."


@dataclass(frozen=True)
class StepPanel:
    """A step as the request page shows it to one user: may they decide it, and if not, why."""

    step: ApprovalStep
    may_decide: bool
    reason: str = ""


def decision_panels(subject, user) -> list[StepPanel]:
    """The steps of the latest round of a request or a vendor review, each with the user's right
    to decide it."""
    steps = list(selectors.steps_of(subject).order_by("-round", "stage", "side"))
    if not steps:
        return []
    latest = steps[0].round
    identity = selectors.reviewer_identity(user, timezone.now())
    panels = []
    for step in (s for s in steps if s.round == latest):
        if step.request_id:
            step.request = subject
        else:
            step.vendor = subject
        if step.state != StepState.OPEN:
            panels.append(
                StepPanel(
                    step, False, why_not_open(step) if step.state == StepState.WAITING else ""
                )
            )
            continue
        verdict = can_decide(user, step, identity)
        panels.append(StepPanel(step, verdict.allowed, verdict.reason))
    return panels
