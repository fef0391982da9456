"""Resubmit without starting over (SPEC §3): when a request comes back without a material
change, the approvals of the sides that did not ask for changes carry over into the new round; a
material change reopens every step. Material: the total cost up by more than the admin's
tolerance (exactly at the tolerance is not), or another vendor, category, data classification or
answer on personal data, compared with the snapshot taken when the previous round started."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Max

from core import formats

from .models import ApprovalStep, ProcessSettings, RoundSnapshot, StepKind, StepState


def last_round(purchase_request) -> int:
    """The request's latest round of review (0: never submitted)."""
    rounds = purchase_request.steps.filter(kind=StepKind.REVIEW).aggregate(last=Max("round"))
    return rounds["last"] or 0


def take_snapshot(purchase_request, *, round: int) -> RoundSnapshot:
    """Records the facts the next resubmit is compared with."""
    snapshot = snapshot_of(purchase_request, round=round)
    snapshot.save()
    return snapshot


def snapshot_of(purchase_request, *, round: int) -> RoundSnapshot:
    """The facts of a request that `material_changes` compares, unsaved: of the request as it
    is, or of the request form's unsaved values (what a resubmit would change)."""
    return RoundSnapshot(
        request=purchase_request,
        round=round,
        total_cost=purchase_request.total_cost,
        currency=purchase_request.currency,
        total_cost_base=purchase_request.total_cost_base,
        vendor_id=purchase_request.vendor_id,
        proposed_vendor_name=purchase_request.proposed_vendor_name or "",
        category_id=purchase_request.category_id,
        data_classification=purchase_request.data_classification,
        handles_personal_data=purchase_request.handles_personal_data,
    )


def material_changes(
    before: RoundSnapshot | None, after: RoundSnapshot, *, tolerance_percent: Decimal
) -> list[str]:
    """What changed materially between two rounds, in words; empty when nothing did. The cost is
    compared in the request's currency, or in the base currency when the currency changed."""
    if before is None:
        return ["the earlier round's facts were not recorded"]
    changes = []
    if before.currency == after.currency:
        old, new, currency = before.total_cost, after.total_cost, after.currency
    else:
        old, new = before.total_cost_base, after.total_cost_base
        currency = settings.TANDEM_BASE_CURRENCY
    if old is None or new is None:
        if old != new:
            changes.append("the total cost changed")
    elif new > old * (1 + tolerance_percent / Decimal(100)):
        changes.append(
            f"the total cost rose from {formats.money(old, currency)} to "
            f"{formats.money(new, currency)}, more than the "
            f"{tolerance_percent.normalize():f}% tolerance"
        )
    if before.vendor_id != after.vendor_id or (
        before.proposed_vendor_name.strip().casefold()
        != after.proposed_vendor_name.strip().casefold()
    ):
        changes.append("the vendor changed")
    if before.category_id != after.category_id:
        changes.append("the category changed")
    if before.data_classification != after.data_classification:
        changes.append("the data classification changed")
    if before.handles_personal_data != after.handles_personal_data:
        changes.append("the answer on personal data changed")
    return changes


@dataclass
class CarryOver:
    """What a new round takes from the previous one."""

    previous_round: int
    enabled: bool
    material_changes: list[str] = field(default_factory=list)
    sides_that_asked: set[str] = field(default_factory=set)
    # (group id, user id, stage) -> the approval (of the round it was actually given in)
    approvals: dict[tuple, ApprovalStep] = field(default_factory=dict)

    def approval_for(self, step: ApprovalStep) -> ApprovalStep | None:
        return self.approvals.get((step.group_id, step.user_id, step.stage))


def plan_carry_over(purchase_request, *, previous_round: int, snapshot: RoundSnapshot):
    """The approvals that carry into the round after `previous_round`: those of the sides that
    did not ask for changes, when the admin setting is on and nothing material changed."""
    if not previous_round:  # a first round: nothing to carry, no setting to read
        return CarryOver(previous_round=0, enabled=False)
    config = ProcessSettings.current()
    result = CarryOver(previous_round=previous_round, enabled=config.carry_over_approvals)
    before = RoundSnapshot.objects.filter(request=purchase_request, round=previous_round).first()
    result.material_changes = material_changes(
        before, snapshot, tolerance_percent=config.cost_tolerance_percent
    )
    previous = list(
        purchase_request.steps.filter(kind=StepKind.REVIEW, round=previous_round).select_related(
            "decided_by", "decided_for", "carried_from", "group", "user"
        )
    )
    result.sides_that_asked = {s.side for s in previous if s.state == StepState.CHANGES_REQUESTED}
    if not result.enabled or result.material_changes:
        return result
    for step in previous:
        if step.state == StepState.APPROVED and step.side not in result.sides_that_asked:
            original = step.carried_from if step.carried_from_id else step
            result.approvals[(step.group_id, step.user_id, step.stage)] = original
    return result
