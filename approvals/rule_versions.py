"""Versions of the routing rules (SPEC §3): every change to the rules, whichever way it is made
(the admin, the API, a published draft), ends in `record_version`, the one place a version is
written, with what changed in words."""

from django.db import transaction

from audit.services import record_event

from . import rulesets
from .models import RuleSetVersion

OUTSIDE_CHANGE = "The rules were changed outside Tandem's rule pages"


def latest_version() -> RuleSetVersion | None:
    return RuleSetVersion.objects.order_by("-number").first()


def record_version(*, by, reason: str = "", rules: list[dict] | None = None) -> RuleSetVersion:
    """Records the rules as they are now (`rules`: a snapshot the caller already took) as a
    new version, with what changed from the latest version; when nothing changed, the latest
    version is the current one and nothing is written. Versions are numbered one after the
    other: the latest version's row is locked while the next is written."""
    with transaction.atomic():
        latest = RuleSetVersion.objects.select_for_update().order_by("-number").first()
        rules = rulesets.snapshot() if rules is None else rules
        if latest is not None and rulesets.same_rules(latest.rules, rules):
            return latest
        if latest is None:
            changes = [f"First version: {len(rules)} rule(s)"]
        else:
            changes = rulesets.describe_changes(latest.rules, rules)
        version = RuleSetVersion.objects.create(
            number=(latest.number if latest else 0) + 1,
            created_by=by,
            reason=reason[:500],
            rules=rules,
            changes=changes,
        )
        record_event(
            version,
            actor=by,
            kind="rules_version",
            payload={"number": version.number, "reason": version.reason, "changes": changes},
        )
    return version


def current_version(*, by=None) -> RuleSetVersion:
    """The version the live rules are: the latest, or a new one when the rules were changed
    some way that records none (a database shell, a fixture)."""
    return record_version(by=by, reason=OUTSIDE_CHANGE)
