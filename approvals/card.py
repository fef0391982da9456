"""The decision card (issue 29): what the request page leads with for a reviewer who may decide
one of its open steps, so that nobody approves blind. In one place: what is asked (the cost as
arithmetic), what changed since the last round, what it does to the budget, the vendor's risk,
possible duplicates, open second opinions, and the decision itself with its reason box.

Everything here is read from what the page has already loaded (the step panels, the request
with its vendor and line items), except the two round snapshots, the requester's edits between
them and the budget figures: a few queries, whatever the size of the request or its history.
Nobody else sees the card: the page stays as it was for requesters and onlookers."""

from dataclasses import dataclass, field

from audit.models import AuditEvent
from budgets import fiscal
from budgets import policies as budget_policies
from budgets import services as budgets
from core.formats import money
from intake.models import CostBreakdown, DataClassification, PurchaseRequest

from .models import Consultation, RoundSnapshot
from .selectors import StepPanel


@dataclass(frozen=True)
class RefusedDecision:
    """A decision refused for its comment (no reason given to reject or to ask for changes, a
    comment too long): the page shows why at the reason box, with the decision still chosen and
    the words the reviewer typed."""

    step_id: int
    decision: str
    comment: str
    message: str


@dataclass(frozen=True)
class FieldChange:
    label: str
    before: str
    after: str

    def __str__(self) -> str:
        return f"{self.label} {self.before} → {self.after}"


@dataclass(frozen=True)
class RoundChanges:
    """What the requester changed between the previous round and this one: the facts every
    round records (`RoundSnapshot`), before and after, and the names of the other fields they
    edited in between (from the audit trail's "edited" events)."""

    since_round: int
    changes: list[FieldChange]
    edited: list[str] = field(default_factory=list)

    @property
    def nothing(self) -> bool:
        return not self.changes and not self.edited


@dataclass(frozen=True)
class BudgetView:
    """The budgets the request counts against (`budgets.services.BudgetLine`: each says its
    effect), or why there is none."""

    lines: list[budgets.BudgetLine]
    none_text: str = ""

    @property
    def over(self) -> bool:
        return any(line.over for line in self.lines)


@dataclass(frozen=True)
class DecisionCard:
    panel: StepPanel
    cost: CostBreakdown
    changes: RoundChanges | None
    budget: BudgetView | None  # None: the reader may not see this department's budget
    open_consultations: list[Consultation]
    answered_consultations: int
    refused: RefusedDecision | None = None

    @property
    def step(self):
        return self.panel.step

    @property
    def chosen(self) -> str:
        """The decision chosen before the page was shown again: the one refused."""
        return self.refused.decision if self.refused else ""


def decision_card(
    purchase_request: PurchaseRequest,
    user,
    panels: list[StepPanel],
    *,
    refused: RefusedDecision | None = None,
) -> DecisionCard | None:
    """The card for `user`, or None when they may decide none of the request's open steps (the
    page is then as it was). Of several steps they may decide, the one they hold leads."""
    deciding = [panel for panel in panels if panel.may_decide]
    if not deciding:
        return None
    panel = next((p for p in deciding if p.step.assignee_id == user.pk), deciding[0])
    if refused is not None and refused.step_id != panel.step.pk:
        refused = None
    consultations = [c.consultation for p in panels for c in p.consultations]
    return DecisionCard(
        panel=panel,
        cost=purchase_request.cost_breakdown,
        changes=round_changes(purchase_request),
        budget=budget_view(purchase_request, user),
        open_consultations=[c for c in consultations if not c.is_answered],
        answered_consultations=sum(1 for c in consultations if c.is_answered),
        refused=refused,
    )


# The snapshot's facts, as the card names them, and how each is said.
def _vendor(snapshot: RoundSnapshot) -> str:
    if snapshot.vendor_id:
        return snapshot.vendor.name
    if snapshot.proposed_vendor_name:
        return f"{snapshot.proposed_vendor_name} (proposed)"
    return "none"


def _classification(snapshot: RoundSnapshot) -> str:
    value = snapshot.data_classification
    return DataClassification(value).label if value in DataClassification.values else "not given"


def _personal_data(snapshot: RoundSnapshot) -> str:
    return {True: "yes", False: "no"}.get(snapshot.handles_personal_data, "not answered")


SNAPSHOT_FACTS = (
    ("Cost", lambda s: money(s.total_cost, s.currency)),
    ("Vendor", _vendor),
    ("Category", lambda s: s.category.name if s.category_id else "none"),
    ("Data classification", _classification),
    ("Personal data", _personal_data),
)
# Edited fields the facts above already show (the line items, through the cost; the edit form
# posts them every time, so an "edited" event always names them).
SHOWN_BY_FACTS = {
    "line_items",
    "vendor",
    "proposed_vendor_name",
    "category",
    "data_classification",
    "handles_personal_data",
}


def round_changes(purchase_request: PurchaseRequest) -> RoundChanges | None:
    """What changed since the previous round, from the snapshots each round takes as it starts;
    None in the first round (or when an earlier round's facts were not recorded)."""
    latest, earlier = (
        list(
            RoundSnapshot.objects.filter(request=purchase_request)
            .select_related("vendor", "category")
            .order_by("-round")[:2]
        )
        + [None, None]
    )[:2]
    if earlier is None:
        return None
    changes = [
        FieldChange(label, say(earlier), say(latest))
        for label, say in SNAPSHOT_FACTS
        if say(earlier) != say(latest)
    ]
    return RoundChanges(
        since_round=earlier.round,
        changes=changes,
        edited=_edited_between(purchase_request, earlier, latest),
    )


def _edited_between(purchase_request, earlier: RoundSnapshot, latest: RoundSnapshot) -> list[str]:
    """The names of the other fields the requester edited between two rounds, in form order."""
    payloads = (
        AuditEvent.objects.for_object(purchase_request)
        .filter(kind="edited", occurred_at__gt=earlier.taken_at, occurred_at__lte=latest.taken_at)
        .values_list("payload", flat=True)
    )
    edited = {name for payload in payloads for name in payload.get("fields", [])}
    names = []
    for model_field in PurchaseRequest._meta.fields:
        if model_field.name in edited and model_field.name not in SHOWN_BY_FACTS:
            names.append(str(model_field.verbose_name))
    return names


def budget_view(purchase_request: PurchaseRequest, user) -> BudgetView | None:
    """The request's effect on each budget it counts against, for a reader who may see its
    department's budget (budgets.policies.can_see_budget: the decider of a step does); what
    stays available is what the others left, this request aside."""
    department = purchase_request.department
    if department is None or purchase_request.needed_by is None:
        return None
    if not budget_policies.can_see_budget(
        user, department, purchase_request=purchase_request
    ).allowed:
        return None
    check = budgets.check_request(purchase_request)
    if check.lines:
        return BudgetView(check.lines)
    years = fiscal.fiscal_years(
        purchase_request.billing, purchase_request.term_months, purchase_request.needed_by
    )
    labels = " or ".join(fiscal.label(year) for year in years)
    return BudgetView([], f"No budget is set for {department.name} in {labels}.")
