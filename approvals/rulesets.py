"""A rule set as data (SPEC §3, "the active rules form a version"): every rule's fields as a
plain dict, the same shape in a version, in a draft and in the backtest. From that data this
module builds rules `routing.plan` takes (unsaved, never written) and says in words what
differs between two rule sets."""

import hashlib
import json
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from accounts import roles
from accounts.models import Department
from core import formats
from intake.models import Category, DataClassification
from vendors.models import RiskTier

from .models import VENDOR_STATUS_CHOICES, ApprovalRule, RuleKind, Side

# The plain fields of a rule, as stored; the two relations are kept as sorted id lists.
FIELDS = (
    "name", "active", "kind", "min_total", "max_total", "data_classifications",
    "personal_data", "vendor_statuses", "vendor_risk_tiers", "over_budget",
    "reviewer_group_id", "reviewer_user_id", "side", "stage", "sla_hours",
    "repeat_every_hours", "escalate_after_hours", "escalation_group_id", "escalation_user_id",
)  # fmt: skip
# (relation, the related model's column in its through table)
RELATIONS = (("categories", "category_id"), ("departments", "department_id"))
MONEY_FIELDS = ("min_total", "max_total")


def rule_data(rule, category_ids=(), department_ids=()) -> dict:
    """One rule as data. Works on the historical model of a migration too."""
    data = {"id": rule.pk}
    for name in FIELDS:
        value = getattr(rule, name)
        data[name] = None if value is None else str(value) if name in MONEY_FIELDS else value
    data["category_ids"] = sorted(category_ids)
    data["department_ids"] = sorted(department_ids)
    return data


def snapshot(rule_model=ApprovalRule) -> list[dict]:
    """Every rule, active or not, as data, in id order: three queries."""
    rules = list(rule_model.objects.order_by("pk"))
    related = {rule.pk: {"categories": [], "departments": []} for rule in rules}
    for relation, column in RELATIONS:
        through = getattr(rule_model, relation).through
        for rule_id, other in through.objects.values_list("approvalrule_id", column):
            related[rule_id][relation].append(other)
    return [
        rule_data(rule, related[rule.pk]["categories"], related[rule.pk]["departments"])
        for rule in rules
    ]


def fingerprint(rules: list[dict]) -> str:
    """What a backtest ran on: equal fingerprints, equal rule sets."""
    text = json.dumps(rules, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def same_rules(a: list[dict], b: list[dict]) -> bool:
    return fingerprint(a) == fingerprint(b)


class Names:
    """The names of the groups, people, categories and departments a few rule sets name, read
    once in four queries: for routing from data and for saying what changed."""

    def __init__(self, *rule_sets: list[dict]):
        groups, users, categories, departments = set(), set(), set(), set()
        for rules in rule_sets:
            for rule in rules:
                groups.update({rule["reviewer_group_id"], rule["escalation_group_id"]})
                users.update({rule["reviewer_user_id"], rule["escalation_user_id"]})
                categories.update(rule["category_ids"])
                departments.update(rule["department_ids"])
        self.groups = Group.objects.in_bulk(groups - {None})
        self.users = get_user_model().objects.in_bulk(users - {None})
        self.categories = {c.pk: c.name for c in Category.objects.filter(pk__in=categories)}
        self.departments = {d.pk: d.name for d in Department.objects.filter(pk__in=departments)}

    def group(self, pk) -> str:
        group = self.groups.get(pk)
        return roles.group_label(group.name) if group else "a removed group"

    def user(self, pk) -> str:
        user = self.users.get(pk)
        return str(user) if user else "a removed person"


def build_rules(rules: list[dict], names: Names, *, active_only: bool = True) -> list:
    """Unsaved rules from data, with their groups, people and the ids of their categories and
    departments attached, as `routing.read_active_rules` gives them: what `routing.plan` takes
    to route under a version or a draft instead of the live rules. No query."""
    built = []
    for data in sorted(rules, key=lambda r: (r["stage"], r["name"])):
        if active_only and not data["active"]:
            continue
        fields = {name: data[name] for name in FIELDS}
        for name in MONEY_FIELDS:
            fields[name] = None if fields[name] is None else Decimal(fields[name])
        rule = ApprovalRule(pk=data["id"], **fields)
        rule.reviewer_group = names.groups.get(data["reviewer_group_id"])
        rule.reviewer_user = names.users.get(data["reviewer_user_id"])
        rule.escalation_group = names.groups.get(data["escalation_group_id"])
        rule.escalation_user = names.users.get(data["escalation_user_id"])
        rule.category_ids = set(data["category_ids"])
        rule.department_ids = set(data["department_ids"])
        built.append(rule)
    return built


# Saying what changed -------------------------------------------------------------------------

LABELS = {
    "active": "active",
    "kind": "what it does",
    "data_classifications": "data classifications",
    "personal_data": "personal data",
    "vendor_statuses": "vendor statuses",
    "vendor_risk_tiers": "vendor risk tiers",
    "over_budget": "over budget",
    "reviewer_group_id": "reviewer group",
    "reviewer_user_id": "reviewer",
    "side": "side",
    "stage": "stage",
    "sla_hours": "reminder after (hours)",
    "repeat_every_hours": "repeat reminder every (hours)",
    "escalate_after_hours": "escalate after (hours)",
    "escalation_group_id": "escalation group",
    "escalation_user_id": "escalation person",
    "category_ids": "categories",
    "department_ids": "departments",
}
CHOICE_WORDS = {
    "kind": dict(RuleKind.choices),
    "side": dict(Side.choices),
    "data_classifications": dict(DataClassification.choices),
    "vendor_statuses": dict(VENDOR_STATUS_CHOICES),
    "vendor_risk_tiers": dict(RiskTier.choices),
}


def _bound(name: str, value) -> str:
    base = settings.TANDEM_BASE_CURRENCY
    if name == "min_total":
        return f"from {formats.money(Decimal(value), base)}" if value else "no lower bound"
    return f"below {formats.money(Decimal(value), base)}" if value else "no upper bound"


def _words(name: str, value, names: Names) -> str:
    """A field's value as an admin reads it."""
    if name in ("reviewer_group_id", "escalation_group_id"):
        return names.group(value) if value else "none"
    if name in ("reviewer_user_id", "escalation_user_id"):
        return names.user(value) if value else "none"
    if name == "category_ids":
        return ", ".join(names.categories.get(pk, "a removed category") for pk in value) or "any"
    if name == "department_ids":
        return ", ".join(names.departments.get(pk, "a removed department") for pk in value) or "any"
    if name in ("personal_data", "over_budget", "active"):
        return {True: "yes", False: "no", None: "either"}[value]
    if name in CHOICE_WORDS:
        words = CHOICE_WORDS[name]
        if isinstance(value, list):
            return ", ".join(str(words.get(v, v)) for v in value) or "any"
        return str(words.get(value, value)) or "none"
    return str(value)


def rule_summary(rule: dict, names: Names) -> str:
    """What a rule does, in one line: "CIO review decides (IT side, stage 2) when total cost
    from 25,000.00 EUR"."""
    if rule["kind"] == RuleKind.AUTO_APPROVE:
        does = "approves at once"
    else:
        who = (
            names.group(rule["reviewer_group_id"])
            if rule["reviewer_group_id"]
            else names.user(rule["reviewer_user_id"])
        )
        side = _words("side", rule["side"], names)
        does = f"{who} decides ({side} side, stage {rule['stage']})"
        if rule["kind"] == RuleKind.VENDOR_REVIEW:
            does = f"vendor review: {does}"
    conditions = [f"total cost {_bound(name, rule[name])}" for name in MONEY_FIELDS if rule[name]]
    for name in ("category_ids", "data_classifications", "vendor_statuses",
                 "vendor_risk_tiers", "department_ids"):  # fmt: skip
        if rule[name]:
            conditions.append(f"{LABELS[name]} {_words(name, rule[name], names)}")
    for name in ("personal_data", "over_budget"):
        if rule[name] is not None:
            conditions.append(f"{LABELS[name]} {_words(name, rule[name], names)}")
    when = f" when {' and '.join(conditions)}" if conditions else " on every request"
    inactive = " (inactive)" if not rule["active"] else ""
    return f"{does}{when}{inactive}"


def describe_changes(before: list[dict], after: list[dict], names: Names | None = None) -> list:
    """What changed from `before` to `after`, one line per change, as an admin reads it:
    "CIO sign-off: total cost from 25,000.00 EUR → from 50,000.00 EUR", "New rule “…”: …",
    "Removed rule “…”"."""
    names = names or Names(before, after)
    old = {rule["id"]: rule for rule in before if rule["id"] is not None}
    lines = []
    for rule in after:
        previous = old.pop(rule["id"], None) if rule["id"] is not None else None
        if previous is None:
            lines.append(f"New rule “{rule['name']}”: {rule_summary(rule, names)}")
            continue
        lines.extend(_rule_changes(previous, rule, names))
    for rule in old.values():
        lines.append(f"Removed rule “{rule['name']}”")
    return lines


def _rule_changes(old: dict, new: dict, names: Names) -> list[str]:
    name = new["name"]
    lines = []
    if old["name"] != new["name"]:
        lines.append(f"{old['name']}: renamed “{name}”")
    for field in MONEY_FIELDS:
        if _money_differs(old[field], new[field]):
            lines.append(
                f"{name}: total cost {_bound(field, old[field])} → {_bound(field, new[field])}"
            )
    for field, label in LABELS.items():
        if old[field] != new[field]:
            before, after = _words(field, old[field], names), _words(field, new[field], names)
            lines.append(f"{name}: {label} {before} → {after}")
    return lines


def _money_differs(a, b) -> bool:
    return (None if a is None else Decimal(a)) != (None if b is None else Decimal(b))
