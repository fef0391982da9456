"""Changing the routing rules safely (SPEC §3, issue #32): a change is a draft, edited apart
from the live rules by its author, backtested against the past year's requests, submitted,
and published only when a second admin approves it. In an emergency one admin publishes at
once with a reason; both leaders are told at once, and a second admin's approval is still due
within a day (operations.alerts raises an alert otherwise). Every step is an audit event."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts import roles
from audit.services import record_event
from core.errors import TransitionNotAllowed
from core.validation import check_text
from notifications.models import Kind
from notifications.services import notify

from . import backtest, policies, rule_versions, rulesets, tasks
from .models import ApprovalRule, BacktestState, DraftState, RuleDraft, RuleSetVersion

# An emergency publication awaits a second admin's approval this long before it is an alert.
CONFIRM_WITHIN = timedelta(days=1)


def _locked(draft: RuleDraft) -> RuleDraft:
    return RuleDraft.objects.select_for_update().get(pk=draft.pk)


def _author_only(draft: RuleDraft, by) -> None:
    policies.can_manage_rules(by).enforce()
    if draft.author_id != by.pk:
        raise PermissionDenied(f"Only {draft.author}, who wrote this rule change, edits it.")


def _editing(draft: RuleDraft) -> None:
    if draft.state != DraftState.EDITING:
        raise TransitionNotAllowed(
            f"This rule change is {draft.get_state_display().lower()}: it is no longer edited."
        )


def start_draft(
    *, by, reason: str = "", from_version: RuleSetVersion | None = None, rules=None
) -> RuleDraft:
    """A new draft from the rules as they are now, from an earlier version ("restore as a
    new draft"), or from a whole rule set given as data (`check_rules`): either way it is
    based on the current version, which publishing replaces."""
    policies.can_manage_rules(by).enforce()
    check_text(reason=reason)
    if rules is not None:
        rules = check_rules(rules)
    with transaction.atomic(durable=True):
        base = rule_versions.current_version(by=by)
        rules = rules if rules is not None else (from_version or base).rules
        if from_version is not None and from_version.number != base.number:
            reason = reason or f"Restores version {from_version.number}"
        draft = RuleDraft.objects.create(based_on=base, author=by, reason=reason[:500], rules=rules)
        record_event(
            draft,
            actor=by,
            kind="rule_draft_started",
            payload={
                "based_on": base.number,
                "restores": from_version.number if from_version else None,
                "reason": draft.reason,
            },
        )
    return draft


RULE_KEYS = {"id", *rulesets.FIELDS, "category_ids", "department_ids"}


def check_rules(rules) -> list[dict]:
    """A whole rule set given as data (the API's `rules`, in a version's shape): each rule
    checked by the model's own rules, as the admin's form checks them, names unique within
    the set, and every group, person, category and department named existing. A rule whose id
    is not a live rule's is a new rule."""
    if not isinstance(rules, list):
        raise ValidationError({"rules": ["A list of rules, as a version's rules are given."]})
    names = rulesets.Names(*[[r] for r in rules if not _shape_problem(r)])
    errors, seen, checked = [], set(), []
    for index, data in enumerate(rules):
        problem = _rule_problem(data, names, seen)
        if problem:
            errors.append(f"Rule {index + 1}: {problem}")
            continue
        seen.add(data["name"])
        checked.append(data)
    if errors:
        raise ValidationError({"rules": errors})
    return checked


def _is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**31


def _shape_problem(data) -> str:
    """Whether the rule has the fields of a version's rule, ids as whole numbers: what must
    hold before anything is looked up."""
    if not isinstance(data, dict) or set(data) != RULE_KEYS:
        return f"give exactly these fields: {', '.join(sorted(RULE_KEYS))}."
    if not isinstance(data["name"], str):
        return "the name is text."
    ids = ["id", "reviewer_group_id", "escalation_group_id", "reviewer_user_id",
           "escalation_user_id"]  # fmt: skip
    if any(data[key] is not None and not _is_id(data[key]) for key in ids):
        return f"{', '.join(ids)} are whole numbers or null."
    lists = ("category_ids", "department_ids")
    if any(not isinstance(data[k], list) or not all(map(_is_id, data[k])) for k in lists):
        return "category_ids and department_ids are lists of whole numbers."
    return ""


def _rule_problem(data, names: rulesets.Names, seen: set) -> str:
    shape = _shape_problem(data)
    if shape:
        return shape
    if data["name"] in seen:
        return "another rule has this name."
    missing = [
        key for key, known in (
            ("reviewer_group_id", names.groups), ("escalation_group_id", names.groups),
            ("reviewer_user_id", names.users), ("escalation_user_id", names.users),
        ) if data[key] is not None and data[key] not in known
    ] + [key for key, known in (("category_ids", names.categories),
                                ("department_ids", names.departments))
         if set(data[key]) - set(known)]  # fmt: skip
    if missing:
        return f"{', '.join(missing)} name nothing that exists."
    try:
        rule = rulesets.build_rules([data], names, active_only=False)[0]
        rule.full_clean(exclude=["id"], validate_unique=False, validate_constraints=False)
    except (ValidationError, TypeError, ArithmeticError, ValueError) as error:
        return " ".join(getattr(error, "messages", [str(error)]))
    return ""


def _next_new_id(rules: list[dict]) -> int:
    """A rule added in a draft has a negative id until it is published."""
    return min([0, *(rule["id"] for rule in rules)]) - 1


def save_draft_rule(draft: RuleDraft, *, by, rule_id: int | None, fields: dict) -> RuleDraft:
    """Adds (`rule_id` None) or changes one rule of the draft from the rule form's cleaned
    data. The live rules do not change."""
    _author_only(draft, by)
    with transaction.atomic(durable=True):
        draft = _locked(draft)
        _editing(draft)
        rules = list(draft.rules)
        index = next((i for i, r in enumerate(rules) if r["id"] == rule_id), None)
        if rule_id is not None and index is None:
            raise ValidationError("This rule is not in the draft any more.")
        new_id = rule_id if rule_id is not None else _next_new_id(rules)
        data = rule_from_form(new_id, fields)
        clashes = [r for r in rules if r["name"] == data["name"] and r["id"] != new_id]
        if clashes:
            raise ValidationError({"name": ["Another rule of this draft has this name."]})
        if index is None:
            rules.append(data)
        else:
            rules[index] = data
        draft.rules = rules
        draft.save(update_fields=["rules"])
        record_event(draft, actor=by, kind="rule_draft_edited", payload={"rule": data["name"]})
    return draft


def rule_from_form(rule_id: int, fields: dict) -> dict:
    """The rule form's (or serializer's) cleaned data as a rule of a rule set."""
    plain = {k: v for k, v in fields.items() if k not in ("categories", "departments")}
    return rulesets.rule_data(
        ApprovalRule(pk=rule_id, **plain),
        [category.pk for category in fields.get("categories") or []],
        [department.pk for department in fields.get("departments") or []],
    )


def remove_draft_rule(draft: RuleDraft, *, by, rule_id: int) -> RuleDraft:
    _author_only(draft, by)
    with transaction.atomic(durable=True):
        draft = _locked(draft)
        _editing(draft)
        removed = [r for r in draft.rules if r["id"] == rule_id]
        draft.rules = [r for r in draft.rules if r["id"] != rule_id]
        draft.save(update_fields=["rules"])
        if removed:
            record_event(
                draft, actor=by, kind="rule_draft_edited", payload={"removed": removed[0]["name"]}
            )
    return draft


def changes_of(draft: RuleDraft) -> list[str]:
    """What the draft changes, in words, against the version it is based on."""
    return rulesets.describe_changes(draft.based_on.rules, draft.rules)


# The backtest --------------------------------------------------------------------------------


def start_backtest(draft: RuleDraft, *, by) -> RuleDraft:
    """Queues the backtest of the draft as it is now; a run already going is superseded (its
    progress and result are ignored once a newer run started)."""
    policies.can_manage_rules(by).enforce()
    with transaction.atomic(durable=True):
        draft = _locked(draft)
        started = timezone.now()
        RuleDraft.objects.filter(pk=draft.pk).update(
            backtest_state=BacktestState.QUEUED,
            backtest_started_at=started,
            backtest_done=0,
            backtest_total=0,
            backtest_of="",
            backtest_result=None,
        )
        record_event(draft, actor=by, kind="rule_draft_backtest_started", payload={})
        transaction.on_commit(lambda: tasks.run_backtest.delay(draft.pk, started.isoformat()))
    draft.refresh_from_db()
    return draft


def run_backtest(draft_id: int, started_at: str) -> bool:
    """The Celery task's work: claims the queued run (a redelivered or superseded one finds
    nothing to claim), replays, and keeps the result with the draft. False when not claimed."""
    run = RuleDraft.objects.filter(pk=draft_id, backtest_started_at=started_at)
    if not run.filter(backtest_state=BacktestState.QUEUED).update(
        backtest_state=BacktestState.RUNNING
    ):
        return False
    draft = RuleDraft.objects.select_related("based_on").get(pk=draft_id)
    rules = draft.rules
    start, end = backtest.window()

    def progress(done, total):
        run.update(backtest_done=done, backtest_total=total)

    try:
        result = backtest.replay(
            draft.based_on.rules, rules, start=start, end=end,
            base_number=draft.based_on.number, progress=progress,
        )  # fmt: skip
    except Exception:
        run.update(backtest_state=BacktestState.FAILED)
        raise
    run.update(
        backtest_state=BacktestState.DONE,
        backtest_result=result,
        backtest_of=rulesets.fingerprint(rules),
    )
    return True


def backtest_is_current(draft: RuleDraft) -> bool:
    """The backtest ran on the draft as it is now."""
    return draft.backtest_state == BacktestState.DONE and draft.backtest_of == (
        rulesets.fingerprint(draft.rules)
    )


# Four eyes -----------------------------------------------------------------------------------


def _rules_unchanged_since(draft: RuleDraft) -> None:
    """Publishing replaces the rules: only the rules the draft was based on."""
    if not rulesets.same_rules(rulesets.snapshot(), draft.based_on.rules):
        raise TransitionNotAllowed(
            f"The rules changed since this draft was started from version "
            f"{draft.based_on.number}: start a new draft from the current rules."
        )


def submit_draft(draft: RuleDraft, *, by) -> RuleDraft:
    """The author asks a second admin to approve; the backtest must have run on the draft as
    it is."""
    _author_only(draft, by)
    with transaction.atomic(durable=True):
        draft = _locked(draft)
        _editing(draft)
        if not changes_of(draft):
            raise TransitionNotAllowed("This draft changes nothing yet.")
        if not backtest_is_current(draft):
            raise TransitionNotAllowed(
                "Run the backtest on the draft as it is now before submitting it."
            )
        _rules_unchanged_since(draft)
        draft.submit(at=timezone.now())
        draft.save()
        record_event(
            draft, actor=by, kind="rule_draft_submitted",
            from_state=DraftState.EDITING, to_state=draft.state,
            payload={"changes": changes_of(draft)},
        )  # fmt: skip
        _tell(
            _other_admins(by),
            draft,
            subject="A rule change waits for your approval",
            lines=[f"{by} asks a second admin to approve a change to the routing rules."],
            cause="submitted",
        )
    return draft


def approve_draft(draft: RuleDraft, *, by) -> RuleDraft:
    """A second admin approves: a submitted draft is published at once; one published in an
    emergency is confirmed."""
    with transaction.atomic(durable=True):
        draft = _locked(draft)
        policies.can_approve_rule_draft(by, draft).enforce()
        now = timezone.now()
        if draft.awaits_confirmation:
            draft.decided_by, draft.decided_at = by, now
            draft.save(update_fields=["decided_by", "decided_at"])
            record_event(draft, actor=by, kind="rule_draft_confirmed", payload={})
            return draft
        if draft.state != DraftState.SUBMITTED:
            raise TransitionNotAllowed(
                f"Only a submitted rule change is approved; this one is "
                f"{draft.get_state_display().lower()}."
            )
        _rules_unchanged_since(draft)
        draft.approve(by=by, at=now)
        record_event(
            draft, actor=by, kind="rule_draft_approved",
            from_state=DraftState.SUBMITTED, to_state=DraftState.APPROVED,
        )  # fmt: skip
        version = _apply(draft, by=by, reason=f"Approved by {by}")
        draft.publish(version=version)
        draft.save()
        record_event(
            draft, actor=by, kind="rule_draft_published",
            from_state=DraftState.APPROVED, to_state=DraftState.PUBLISHED,
            payload={"version": version.number},
        )  # fmt: skip
    return draft


def reject_draft(draft: RuleDraft, *, by, comment: str = "") -> RuleDraft:
    check_text(comment=comment)
    with transaction.atomic(durable=True):
        draft = _locked(draft)
        policies.can_approve_rule_draft(by, draft).enforce()
        if draft.state != DraftState.SUBMITTED:
            raise TransitionNotAllowed("Only a submitted rule change is rejected.")
        draft.reject(by=by, at=timezone.now())
        draft.save()
        record_event(
            draft, actor=by, kind="rule_draft_rejected",
            from_state=DraftState.SUBMITTED, to_state=DraftState.REJECTED,
            payload={"comment": comment},
        )  # fmt: skip
    return draft


def publish_in_emergency(draft: RuleDraft, *, by, reason: str) -> RuleDraft:
    """One admin publishes at once, saying why; the CIO and the CPO are told at once, and a
    second admin's approval is still due within a day."""
    policies.can_manage_rules(by).enforce()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["Say why this cannot wait for a second admin."]})
    check_text(reason=reason)
    with transaction.atomic(durable=True):
        draft = _locked(draft)
        if draft.state not in (DraftState.EDITING, DraftState.SUBMITTED):
            raise TransitionNotAllowed(
                f"This rule change is {draft.get_state_display().lower()}: it cannot be published."
            )
        _rules_unchanged_since(draft)
        from_state, now = draft.state, timezone.now()
        version = _apply(draft, by=by, reason=f"Published in an emergency by {by}: {reason}")
        draft.publish_in_emergency(by=by, reason=reason[:500], at=now, version=version)
        draft.save()
        record_event(
            draft, actor=by, kind="rule_draft_published_in_emergency",
            from_state=from_state, to_state=draft.state,
            payload={"version": version.number, "reason": reason},
        )  # fmt: skip
        leaders = (
            get_user_model()
            .objects.filter(is_active=True, groups__name__in=[roles.CIO, roles.CPO])
            .distinct()
        )
        _tell(
            leaders,
            draft,
            subject="Routing rules changed in an emergency",
            lines=[
                f"{by} published a change to the routing rules at once: {reason}",
                *changes_of(draft)[:10],
                "A second admin approves it within a day.",
            ],
            cause="emergency",
        )
    return draft


def _apply(draft: RuleDraft, *, by, reason: str) -> RuleSetVersion:
    """Makes the live rules the draft's: rules removed are deleted (routed steps keep their
    copy), changed ones updated, new ones created; then the new version is recorded."""
    wanted = {rule["id"]: rule for rule in draft.rules}
    live = {rule.pk: rule for rule in ApprovalRule.objects.select_for_update()}
    ApprovalRule.objects.filter(pk__in=set(live) - set(wanted)).delete()
    for rule_id, data in wanted.items():
        rule = live.get(rule_id) or ApprovalRule()
        for name in rulesets.FIELDS:
            setattr(rule, name, data[name])
        rule.save()
        rule.categories.set(data["category_ids"])
        rule.departments.set(data["department_ids"])
    return rule_versions.record_version(by=by, reason=reason)


def _other_admins(by):
    return get_user_model().objects.filter(roles.ADMINS).exclude(pk=by.pk)


def _tell(recipients, draft: RuleDraft, *, subject: str, lines: list[str], cause: str) -> None:
    notify(
        list(recipients),
        subject=subject,
        lines=lines,
        action="Open the rule change",
        url=reverse("approvals:rule-draft", args=[draft.pk]),
        dedupe_key=f"rule-draft:{draft.pk}:{cause}",
        kind=Kind.SERVICE,
        topic=f"rule-draft:{draft.pk}",
    )


def unconfirmed_emergencies(now=None):
    """Emergency publications no second admin approved within a day."""
    now = now or timezone.now()
    return RuleDraft.objects.filter(
        emergency_at__isnull=False, decided_by__isnull=True, emergency_at__lt=now - CONFIRM_WITHIN
    )


def confirmed_among(draft_ids) -> list[int]:
    """Which of these drafts a second admin has approved."""
    return list(
        RuleDraft.objects.filter(pk__in=list(draft_ids), decided_by__isnull=False).values_list(
            "pk", flat=True
        )
    )
