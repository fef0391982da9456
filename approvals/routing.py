"""Routing (SPEC §3): which approval steps a request gets, and why. The union of the steps of
every matching rule, one step per (reviewer, stage); default steps make sure both the IT and
the procurement side sign off; an auto-approval rule that matches approves at once."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import Group
from django.db.models import Max
from django.utils import timezone

from accounts import roles
from audit.services import record_event

from .models import NEW_VENDOR, ApprovalRule, ApprovalStep, RuleKind, Side, StepState
from .selectors import JOINT_SIDES

# Used only if an admin removed the default rules of a side: joint sign-off is not optional.
BUILT_IN_DEFAULTS = {Side.IT: roles.IT_REVIEWERS, Side.PROCUREMENT: roles.PROCUREMENT}


@dataclass(frozen=True)
class RequestFacts:
    """What the conditions of a rule look at, taken from a request or from a draft payload."""

    total_base: Decimal | None = None
    category_id: int | None = None
    category_name: str = ""
    data_classification: str = ""
    personal_data: bool | None = None
    vendor_status: str = ""
    vendor_risk_tier: str = ""
    department_id: int | None = None
    department_name: str = ""

    @classmethod
    def of(cls, purchase_request) -> "RequestFacts":
        vendor = purchase_request.vendor if purchase_request.vendor_id else None
        if vendor is not None:
            vendor_status, tier = vendor.status, vendor.risk_tier
        else:
            vendor_status = NEW_VENDOR if purchase_request.proposed_vendor_name else ""
            tier = ""
        category = purchase_request.category if purchase_request.category_id else None
        department = purchase_request.department if purchase_request.department_id else None
        return cls(
            total_base=purchase_request.total_cost_base,
            category_id=purchase_request.category_id,
            category_name=str(category or ""),
            data_classification=purchase_request.data_classification,
            personal_data=purchase_request.handles_personal_data,
            vendor_status=vendor_status,
            vendor_risk_tier=tier,
            department_id=purchase_request.department_id,
            department_name=department.name if department else "",
        )


def facts_from_draft(data: dict) -> RequestFacts:
    """Facts from a preview payload (see approvals.api.serializers.PreviewRequestSerializer)."""
    category, department = data.get("category"), data.get("department")
    return RequestFacts(
        total_base=data.get("total"),
        category_id=category.pk if category else None,
        category_name=str(category or ""),
        data_classification=data.get("data_classification") or "",
        personal_data=data.get("personal_data"),
        vendor_status=data.get("vendor_status") or "",
        vendor_risk_tier=data.get("vendor_risk_tier") or "",
        department_id=department.pk if department else None,
        department_name=department.name if department else "",
    )


def explain(rule: ApprovalRule, facts: RequestFacts) -> list[str] | None:
    """The conditions of `rule` that `facts` meet, in words; None when one of them fails."""
    base = settings.TANDEM_BASE_CURRENCY
    reasons = []
    if rule.min_total is not None:
        if facts.total_base is None or facts.total_base < rule.min_total:
            return None
        reasons.append(f"total cost {facts.total_base:,.2f} {base} ≥ {rule.min_total:,.2f}")
    if rule.max_total is not None:
        if facts.total_base is None or facts.total_base >= rule.max_total:
            return None
        reasons.append(f"total cost {facts.total_base:,.2f} {base} < {rule.max_total:,.2f}")
    category_ids = {c.pk for c in rule.categories.all()}
    if category_ids:
        if facts.category_id not in category_ids:
            return None
        reasons.append(f"category is {facts.category_name}")
    if rule.data_classifications:
        if facts.data_classification not in rule.data_classifications:
            return None
        reasons.append(f"data classification is {facts.data_classification}")
    if rule.personal_data is not None:
        if facts.personal_data is not rule.personal_data:
            return None
        reasons.append("handles personal data" if rule.personal_data else "no personal data")
    if rule.vendor_statuses:
        if facts.vendor_status not in rule.vendor_statuses:
            return None
        reasons.append(f"vendor status is {facts.vendor_status.replace('_', ' ')}")
    if rule.vendor_risk_tiers:
        if facts.vendor_risk_tier not in rule.vendor_risk_tiers:
            return None
        reasons.append(f"vendor risk tier is {facts.vendor_risk_tier}")
    department_ids = {d.pk for d in rule.departments.all()}
    if department_ids:
        if facts.department_id not in department_ids:
            return None
        reasons.append(f"department is {facts.department_name}")
    return reasons or ["applies to every request"]


@dataclass
class PlannedStep:
    side: str
    stage: int
    rule: ApprovalRule | None
    rule_name: str
    group: Group | None = None
    user: object = None
    reasons: list[str] = field(default_factory=list)
    sla_hours: int = 48
    repeat_every_hours: int = 24
    escalate_after_hours: int = 96
    escalation_group: Group | None = None
    escalation_user: object = None

    @property
    def reviewer_label(self) -> str:
        return self.group.name if self.group else str(self.user)

    @classmethod
    def from_rule(cls, rule: ApprovalRule, reasons: list[str]) -> "PlannedStep":
        return cls(
            side=rule.side,
            stage=rule.stage,
            rule=rule,
            rule_name=rule.name,
            group=rule.reviewer_group,
            user=rule.reviewer_user,
            reasons=[f"{rule.name}: {', '.join(reasons)}"],
            sla_hours=rule.sla_hours,
            repeat_every_hours=rule.repeat_every_hours,
            escalate_after_hours=rule.escalate_after_hours,
            escalation_group=rule.escalation_group,
            escalation_user=rule.escalation_user,
        )


@dataclass
class RoutingPlan:
    steps: list[PlannedStep]
    auto_approved_by: ApprovalRule | None = None
    auto_approval_reasons: list[str] = field(default_factory=list)


def active_rules() -> list[ApprovalRule]:
    return list(
        ApprovalRule.objects.filter(active=True)
        .select_related("reviewer_group", "reviewer_user", "escalation_group", "escalation_user")
        .prefetch_related("categories", "departments")
        .order_by("stage", "name")
    )


def plan(facts: RequestFacts, rules: list[ApprovalRule] | None = None) -> RoutingPlan:
    """The steps a request with these facts gets under the rules as they are now."""
    rules = active_rules() if rules is None else rules
    for rule in rules:
        if rule.kind == RuleKind.AUTO_APPROVE:
            reasons = explain(rule, facts)
            if reasons is not None:
                return RoutingPlan(steps=[], auto_approved_by=rule, auto_approval_reasons=reasons)

    steps: dict[tuple, PlannedStep] = {}

    def add(rule, reasons):
        key = (rule.reviewer_group_id, rule.reviewer_user_id, rule.stage)
        if key in steps:
            steps[key].reasons.append(f"{rule.name}: {', '.join(reasons)}")
        else:
            steps[key] = PlannedStep.from_rule(rule, reasons)

    for rule in rules:
        if rule.kind == RuleKind.ROUTE and (reasons := explain(rule, facts)) is not None:
            add(rule, reasons)
    covered = {step.side for step in steps.values()}
    for rule in rules:
        if (
            rule.kind == RuleKind.DEFAULT
            and rule.side not in covered
            and (reasons := explain(rule, facts)) is not None
        ):
            add(rule, [f"default {rule.get_side_display()} step", *reasons])
    covered = {step.side for step in steps.values()}
    for side in JOINT_SIDES:
        if side not in covered:
            group = Group.objects.get(name=BUILT_IN_DEFAULTS[side])
            steps[(group.pk, None, 1)] = PlannedStep(
                side=side,
                stage=1,
                rule=None,
                rule_name="Joint sign-off (built in)",
                group=group,
                reasons=[f"every request needs the {side} side; no rule supplied it"],
            )
    return RoutingPlan(steps=sorted(steps.values(), key=lambda s: (s.stage, s.side)))


def route_request(purchase_request, *, by) -> None:
    """Snapshots the plan into approval steps for a new round and opens the first stage, or
    approves at once when an auto-approval rule matches. Runs in submit's transaction."""
    from intake.services import apply_transition

    routing = plan(RequestFacts.of(purchase_request))
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
        return
    last_round = purchase_request.steps.aggregate(last=Max("round"))["last"] or 0
    steps = ApprovalStep.objects.bulk_create(
        ApprovalStep(
            request=purchase_request,
            round=last_round + 1,
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
        for planned in routing.steps
    )
    record_event(
        purchase_request,
        actor=by,
        kind="routed",
        payload={
            "round": last_round + 1,
            "steps": [
                {"reviewer": s.reviewer_label, "side": s.side, "stage": s.stage, "why": s.reasons}
                for s in routing.steps
            ],
        },
    )
    open_stage(steps, stage=min(step.stage for step in steps))


def open_stage(steps: list[ApprovalStep], *, stage: int) -> list[ApprovalStep]:
    """Opens the waiting steps of `stage`: their SLA clock starts now."""
    now = timezone.now()
    opened = [s for s in steps if s.stage == stage and s.state == StepState.WAITING]
    for step in opened:
        step.open(at=now)
        step.save()
    return opened
