"""Routing (SPEC §3): which approval steps a request gets, and why. The baseline review steps
(an IT and a procurement review at stage 1, admin-configurable rules of kind "baseline") plus
the union of the steps of every matching rule, one step per (reviewer, stage): rules add steps,
they never remove the baseline. A side no rule covers still gets a built-in step, so both the
IT and the procurement side always sign off; an auto-approval rule that matches approves at
once."""

import functools
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import Group
from django.db.models import Count, Max, Q, Sum
from django.utils import translation

from accounts import roles
from budgets import services as budgets
from budgets.models import OverrunAction
from core import formats
from intake.models import DataClassification
from vendors.models import RiskTier

from .models import JOINT_SIDES, NEW_VENDOR, VENDOR_STATUS_CHOICES, ApprovalRule, RuleKind, Side

# Used only if an admin removed the default rules of a side: joint sign-off is not optional.
BUILT_IN_DEFAULTS = {Side.IT: roles.IT_REVIEWERS, Side.PROCUREMENT: roles.PROCUREMENT}


EVERY_REQUEST = "applies to every request"


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
    # The budget check (budgets.services): over budget, and the budget owner whose approval
    # the overrun needs (None and needs_owner: finance approves, as the owner filed it).
    over_budget: bool | None = None
    budget_reasons: tuple = ()
    budget_needs_owner: bool = False
    budget_owner: object = None

    @classmethod
    def of(cls, purchase_request, budget_check=None, *, with_budget=True) -> "RequestFacts":
        """`with_budget` False leaves the budget out (no check, so no overrun and no budget
        owner's step): what someone who may not see the department's budget is shown."""
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
            **(
                budget_facts(
                    budget_check or budgets.check_request(purchase_request), purchase_request
                )
                if with_budget
                else {}
            ),
        )


# The columns `RequestFacts.from_values` reads: one query per chunk of requests (the backtest).
FACT_COLUMNS = (
    "total_cost_base", "category_id", "category__name", "data_classification",
    "handles_personal_data", "vendor_id", "vendor__status", "vendor__risk_tier",
    "proposed_vendor_name", "department_id", "department__name",
)  # fmt: skip


def facts_from_values(row: dict) -> RequestFacts:
    """`RequestFacts.of(request, with_budget=False)` from a row of FACT_COLUMNS, without a
    model instance: what the backtest replays for thousands of requests
    (tests/approvals/test_backtest.py checks the two agree)."""
    if row["vendor_id"] is not None:
        vendor_status, tier = row["vendor__status"], row["vendor__risk_tier"]
    else:
        vendor_status, tier = (NEW_VENDOR if row["proposed_vendor_name"] else ""), ""
    return RequestFacts(
        total_base=row["total_cost_base"],
        category_id=row["category_id"],
        category_name=row["category__name"] or "",
        data_classification=row["data_classification"],
        personal_data=row["handles_personal_data"],
        vendor_status=vendor_status,
        vendor_risk_tier=tier,
        department_id=row["department_id"],
        department_name=row["department__name"] or "",
    )


def budget_facts(check, purchase_request=None) -> dict:
    """The facts of a budget check: over budget or not (None when no budget applies)."""
    if not check.lines:
        return {}
    needs_owner = check.action == OverrunAction.OWNER_APPROVAL
    return {
        "over_budget": check.over_budget,
        "budget_reasons": tuple(check.reasons()),
        "budget_needs_owner": needs_owner,
        "budget_owner": budgets.owner_for(check, purchase_request) if needs_owner else None,
    }


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
        over_budget=data.get("over_budget"),
    )


# The words for the stored values a reason names ("under_review" reads "under review").
LABELS = {
    **dict(DataClassification.choices),
    **dict(VENDOR_STATUS_CHOICES),
    NEW_VENDOR: "new (proposed on the request)",
    **dict(RiskTier.choices),
}


def _label(value: str) -> str:
    return str(LABELS.get(value, value.replace("_", " "))).lower()


def preview_query_for(rule: ApprovalRule) -> dict[str, str]:
    """The rule preview's query for a request that meets every condition of `rule`: the
    admin's link from a rule to the steps such a request gets."""
    query = {}
    if rule.min_total is not None:
        query["total"] = str(rule.min_total)
    elif rule.max_total is not None:
        query["total"] = str(max(rule.max_total - Decimal("0.01"), Decimal("0")))
    category = rule.categories.order_by("name").first()
    if category is not None:
        query["category"] = category.slug
    department = rule.departments.order_by("name").first()
    if department is not None:
        query["department"] = department.cost_centre
    for attribute, key in (
        ("data_classifications", "data_classification"),
        ("vendor_statuses", "vendor_status"),
        ("vendor_risk_tiers", "vendor_risk_tier"),
    ):
        values = getattr(rule, attribute)
        if isinstance(values, list) and values:
            query[key] = values[0]
    if rule.personal_data is not None:
        query["personal_data"] = "true" if rule.personal_data else "false"
    if rule.over_budget is not None:
        query["over_budget"] = "true" if rule.over_budget else "false"
    return query


def _amount(value: Decimal, currency: str) -> str:
    """An amount as a reason writes it ("12,500.00 EUR", `core.formats.money`, in the reader's
    language): formatted once per value, not once per rule and request (routing against 500
    rules formats the same few amounts again and again)."""
    return _formatted(value, currency, translation.get_language())


@functools.lru_cache(maxsize=4096)
def _formatted(value: Decimal, currency: str, language: str | None) -> str:
    return formats.money(value, currency)


def explain(rule: ApprovalRule, facts: RequestFacts) -> list[str] | None:
    """The conditions of `rule` that `facts` meet, in words; None when one of them fails.
    `rule` comes from `active_rules()`, with its category and department ids attached."""
    base = settings.TANDEM_BASE_CURRENCY
    reasons = []
    if rule.min_total is not None:
        if facts.total_base is None or facts.total_base < rule.min_total:
            return None
        reasons.append(
            f"total cost {_amount(facts.total_base, base)} ≥ {_amount(rule.min_total, base)}"
        )
    if rule.max_total is not None:
        if facts.total_base is None or facts.total_base >= rule.max_total:
            return None
        reasons.append(
            f"total cost {_amount(facts.total_base, base)} < {_amount(rule.max_total, base)}"
        )
    if rule.category_ids:
        if facts.category_id not in rule.category_ids:
            return None
        reasons.append(f"category is {facts.category_name}")
    if rule.data_classifications:
        if facts.data_classification not in rule.data_classifications:
            return None
        reasons.append(f"data classification is {_label(facts.data_classification)}")
    if rule.personal_data is not None:
        if facts.personal_data is not rule.personal_data:
            return None
        reasons.append("handles personal data" if rule.personal_data else "no personal data")
    if rule.vendor_statuses:
        if facts.vendor_status not in rule.vendor_statuses:
            return None
        reasons.append(f"vendor status is {_label(facts.vendor_status)}")
    if rule.vendor_risk_tiers:
        if facts.vendor_risk_tier not in rule.vendor_risk_tiers:
            return None
        reasons.append(f"vendor risk tier is {_label(facts.vendor_risk_tier)}")
    if rule.department_ids:
        if facts.department_id not in rule.department_ids:
            return None
        reasons.append(f"department is {facts.department_name}")
    if rule.over_budget is not None:
        if facts.over_budget is None or facts.over_budget is not rule.over_budget:
            return None
        reasons.append("over budget" if rule.over_budget else "within budget")
    return reasons or [EVERY_REQUEST]


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
        return roles.group_label(self.group.name) if self.group else str(self.user)

    @property
    def side_label(self) -> str:
        return Side(self.side).label

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
    # Steps of the vendor's joint review, when the vendor must be approved first.
    vendor_steps: list[PlannedStep] = field(default_factory=list)


# The active rules as last read, with the version they were read at (see `rules_version`).
_compiled: dict = {"version": None, "rules": []}


def rules_version() -> tuple:
    """What changes whenever a rule does, in one small query: how many rules there are and
    which (a deletion), how many are active (an activation, even by a bulk update), and the
    latest change (every save, including the admin's and the API's, which save the rule with
    its categories and departments)."""
    return tuple(
        ApprovalRule.objects.aggregate(
            count=Count("pk"),
            ids=Sum("pk"),
            active=Count("pk", filter=Q(active=True)),
            changed=Max("updated_at"),
        ).values()
    )


def forget_rules(**kwargs) -> None:
    """Drops the compiled rules of this process (connected to every rule change's signal)."""
    _compiled["version"] = None


def active_rules() -> list[ApprovalRule]:
    """The active rules, compiled once and reused while `rules_version` is unchanged: one small
    query per routing instead of reading every rule. A rule saved, deleted or (de)activated is
    seen at the next routing, in every process."""
    version = rules_version()
    if _compiled["version"] != version:
        _compiled["rules"] = read_active_rules()
        _compiled["version"] = version
    return _compiled["rules"]


def read_active_rules() -> list[ApprovalRule]:
    """The active rules, each with the ids of its categories and departments attached
    (`category_ids`, `department_ids`): three queries, whatever the number of rules."""
    rules = list(
        ApprovalRule.objects.filter(active=True)
        .select_related("reviewer_group", "reviewer_user", "escalation_group", "escalation_user")
        .order_by("stage", "name")
    )
    by_id = {rule.pk: rule for rule in rules}
    for rule in rules:
        rule.category_ids, rule.department_ids = set(), set()
    for relation, attribute, column in (
        (ApprovalRule.categories.through, "category_ids", "category_id"),
        (ApprovalRule.departments.through, "department_ids", "department_id"),
    ):
        for rule_id, related_id in relation.objects.filter(approvalrule__active=True).values_list(
            "approvalrule_id", column
        ):
            getattr(by_id[rule_id], attribute).add(related_id)
    return rules


class _StepSet:
    """Planned steps keyed by (reviewer, stage): two rules naming one reviewer make one step."""

    def __init__(self):
        self.steps: dict[tuple, PlannedStep] = {}

    def add(self, rule: ApprovalRule, reasons: list[str]) -> None:
        key = (rule.reviewer_group_id, rule.reviewer_user_id, rule.stage)
        if key in self.steps:
            self.steps[key].reasons.append(f"{rule.name}: {', '.join(reasons)}")
        else:
            self.steps[key] = PlannedStep.from_rule(rule, reasons)

    @property
    def sides(self) -> set[str]:
        return {step.side for step in self.steps.values()}

    def ensure_joint_sides(self) -> None:
        """Joint sign-off is not optional: a side no rule supplied gets the built-in step."""
        for side in JOINT_SIDES:
            if side not in self.sides:
                group = Group.objects.get(name=BUILT_IN_DEFAULTS[side])
                self.steps[(group.pk, None, 1)] = PlannedStep(
                    side=side,
                    stage=1,
                    rule=None,
                    rule_name="Joint sign-off (built in)",
                    group=group,
                    reasons=[
                        f"joint sign-off needs the {Side(side).label} side and no active rule "
                        "supplied it: the built-in safety net adds this step"
                    ],
                )

    def ordered(self) -> list[PlannedStep]:
        return sorted(self.steps.values(), key=lambda s: (s.stage, s.side))


def baseline_reasons(rule: ApprovalRule, reasons: list[str]) -> list[str]:
    """Why a baseline rule added its step: every routed request gets it, unless an admin
    restricted it with conditions, which then say why this request qualifies."""
    side = rule.get_side_display()
    if reasons == [EVERY_REQUEST]:
        return [f"baseline {side} review of every routed request"]
    return [f"baseline {side} review of the requests where {' and '.join(reasons)}"]


def plan(facts: RequestFacts, rules: list[ApprovalRule] | None = None) -> RoutingPlan:
    """The steps a request with these facts gets under the rules as they are now."""
    rules = active_rules() if rules is None else rules
    matches = [(rule, reasons) for rule in rules if (reasons := explain(rule, facts)) is not None]

    vendor_review = _StepSet()
    for rule, reasons in matches:
        if rule.kind == RuleKind.VENDOR_REVIEW:
            vendor_review.add(rule, reasons)
    if vendor_review.steps:
        vendor_review.ensure_joint_sides()
    else:
        for rule, reasons in matches:
            if rule.kind == RuleKind.AUTO_APPROVE and not facts.budget_needs_owner:
                return RoutingPlan(steps=[], auto_approved_by=rule, auto_approval_reasons=reasons)

    request_steps = _StepSet()
    for rule, reasons in matches:
        if rule.kind == RuleKind.BASELINE:
            request_steps.add(rule, baseline_reasons(rule, reasons))
    for rule, reasons in matches:
        if rule.kind == RuleKind.ROUTE:
            request_steps.add(rule, reasons)
    request_steps.ensure_joint_sides()
    steps = request_steps.ordered()
    if facts.budget_needs_owner:
        steps.append(budget_owner_step(facts, after_stage=max(s.stage for s in steps)))
    return RoutingPlan(steps=steps, vendor_steps=vendor_review.ordered())


def budget_owner_step(facts: RequestFacts, *, after_stage: int) -> PlannedStep:
    """The budget owner approves an overrun, after the reviews (the budget's default setting);
    finance does when the owner filed the request."""
    owner = facts.budget_owner
    return PlannedStep(
        side=Side.FINANCE,
        stage=min(after_stage + 1, 20),
        rule=None,
        rule_name=budgets.OWNER_STEP_NAME,
        group=None if owner else Group.objects.get(name=roles.FINANCE),
        user=owner,
        reasons=[f"over budget: {reason}" for reason in facts.budget_reasons],
    )


def plan_vendor_review(vendor) -> list[PlannedStep]:
    """The joint review steps for a vendor, from the vendor-review rules (both sides always)."""
    review = _StepSet()
    for rule in active_rules():
        if rule.kind == RuleKind.VENDOR_REVIEW:
            review.add(rule, ["review started from the vendor page"])
    review.ensure_joint_sides()
    return review.ordered()
