"""The pages of rule changes (issue #32): the rules' versions and what each changed, comparing
two, drafting a change, its backtest (followed with htmx while it runs), and the four eyes
that publish it. Admins only; every write goes through approvals.rule_drafts."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core.pages import perform
from core.query import integer_param

from . import policies, rule_drafts, rule_versions, rulesets
from .forms import DraftRuleForm
from .models import BacktestState, DraftState, RuleDraft, RuleSetVersion

VERSIONS_PER_PAGE = 25


def _admin(request) -> None:
    policies.can_manage_rules(request.user).enforce()


def versions(request):
    """Every version, newest first, and the rule changes under way."""
    _admin(request)
    page = Paginator(
        RuleSetVersion.objects.select_related("created_by").defer("rules"), VERSIONS_PER_PAGE
    ).get_page(request.GET.get("page"))
    drafts = RuleDraft.objects.select_related("author", "based_on").filter(
        state__in=[DraftState.EDITING, DraftState.SUBMITTED]
    )
    unconfirmed = RuleDraft.objects.select_related("author", "emergency_by").filter(
        emergency_at__isnull=False, decided_by__isnull=True
    )
    context = {"page": page, "drafts": drafts, "unconfirmed": unconfirmed}
    return render(request, "approvals/rule_versions.html", context)


def _rule_rows(rules: list[dict], names: rulesets.Names) -> list[dict]:
    return [{**rule, "summary": rulesets.rule_summary(rule, names)} for rule in rules]


def version(request, number):
    _admin(request)
    shown = get_object_or_404(RuleSetVersion.objects.select_related("created_by"), number=number)
    names = rulesets.Names(shown.rules)
    latest = rule_versions.latest_version()
    context = {
        "version": shown,
        "rules": _rule_rows(shown.rules, names),
        "is_current": latest is not None and latest.number == shown.number,
        "previous": number - 1 if number > 1 else None,
    }
    return render(request, "approvals/rule_version.html", context)


def compare(request):
    """What changed from one version to another (any two, either order)."""
    _admin(request)
    latest = rule_versions.latest_version()
    numbers = [
        integer_param(request.GET, "from", default=None, min_value=1),
        integer_param(request.GET, "to", default=None, min_value=1),
    ]
    if latest is None:
        return redirect("approvals:rule-versions")
    older_number = numbers[0] or max(latest.number - 1, 1)
    newer_number = numbers[1] or latest.number
    older = get_object_or_404(RuleSetVersion, number=older_number)
    newer = get_object_or_404(RuleSetVersion, number=newer_number)
    changes = rulesets.describe_changes(older.rules, newer.rules)
    context = {"older": older, "newer": newer, "changes": changes, "latest": latest}
    return render(request, "approvals/rule_compare.html", context)


@require_POST
def restore(request, number):
    """A new draft with an earlier version's rules: published, it restores them."""
    _admin(request)
    shown = get_object_or_404(RuleSetVersion, number=number)
    draft = perform(request, rule_drafts.start_draft, by=request.user, from_version=shown)
    if draft is None:
        return redirect("approvals:rule-version", number)
    messages.success(request, f"A new draft restores the rules of version {number}.")
    return redirect("approvals:rule-draft", draft.pk)


@require_POST
def new_draft(request):
    _admin(request)
    draft = perform(
        request, rule_drafts.start_draft, by=request.user, reason=request.POST.get("reason", "")
    )
    if draft is None:
        return redirect("approvals:rule-versions")
    return redirect("approvals:rule-draft", draft.pk)


def _draft(request, pk) -> RuleDraft:
    _admin(request)
    return get_object_or_404(
        RuleDraft.objects.select_related(
            "author", "based_on", "decided_by", "emergency_by", "published_version"
        ),
        pk=pk,
    )


def draft(request, pk):
    shown = _draft(request, pk)
    names = rulesets.Names(shown.rules, shown.based_on.rules)
    editable = shown.state == DraftState.EDITING and shown.author_id == request.user.pk
    approval = policies.can_approve_rule_draft(request.user, shown)
    context = {
        "draft": shown,
        "rules": _rule_rows(shown.rules, names),
        "changes": rulesets.describe_changes(shown.based_on.rules, shown.rules, names),
        "editable": editable,
        "may_approve": bool(approval)
        and (shown.state == DraftState.SUBMITTED or shown.awaits_confirmation),
        "approval_reason": approval.reason,
        "backtest_current": rule_drafts.backtest_is_current(shown),
        **_backtest_context(shown),
    }
    return render(request, "approvals/rule_draft.html", context)


def _backtest_context(shown: RuleDraft) -> dict:
    running = shown.backtest_state in (BacktestState.QUEUED, BacktestState.RUNNING)
    total = shown.backtest_total
    percent = round(100 * shown.backtest_done / total) if total else (100 if not running else 0)
    return {"running": running, "percent": percent, "result": shown.backtest_result}


def backtest_progress(request, pk):
    """The backtest panel alone: what htmx polls while the backtest runs."""
    shown = _draft(request, pk)
    context = {
        "draft": shown,
        "backtest_current": rule_drafts.backtest_is_current(shown),
        **_backtest_context(shown),
    }
    response = render(request, "approvals/_backtest.html", context)
    if request.htmx and not context["running"]:
        # Done: the whole page again, with the result and what may follow (submit).
        response["HX-Refresh"] = "true"
    return response


def _rule_key(key: str) -> int | None:
    try:
        return int(key)
    except ValueError:
        return None


def draft_rule(request, pk, rule_key=None):
    """Adds a rule to the draft, or changes one (the admin's rule form)."""
    shown = _draft(request, pk)
    rule_id = _rule_key(rule_key) if rule_key is not None else None
    rule = next((r for r in shown.rules if r["id"] == rule_id), None)
    if rule_key is not None and rule is None:
        messages.error(request, "This rule is not in the draft any more.")
        return redirect("approvals:rule-draft", pk)
    if request.method == "POST":
        form = DraftRuleForm(request.POST)
        if form.is_valid():
            saved = perform(
                request, rule_drafts.save_draft_rule, shown, by=request.user,
                rule_id=rule_id, fields=form.cleaned_data,
                success=f"The draft's rule “{form.cleaned_data['name']}” is saved.",
            )  # fmt: skip
            if saved is not None:
                return redirect("approvals:rule-draft", pk)
    else:
        form = DraftRuleForm(rule=rule)
    context = {"draft": shown, "form": form, "rule": rule}
    return render(request, "approvals/rule_draft_rule.html", context)


@require_POST
def remove_draft_rule(request, pk, rule_key):
    shown = _draft(request, pk)
    perform(
        request, rule_drafts.remove_draft_rule, shown, by=request.user,
        rule_id=_rule_key(rule_key), success="The rule is removed from the draft.",
    )  # fmt: skip
    return redirect("approvals:rule-draft", pk)


@require_POST
def run_backtest(request, pk):
    shown = _draft(request, pk)
    perform(request, rule_drafts.start_backtest, shown, by=request.user)
    return redirect("approvals:rule-draft", pk)


@require_POST
def submit(request, pk):
    shown = _draft(request, pk)
    perform(
        request, rule_drafts.submit_draft, shown, by=request.user,
        success="Submitted: a second admin approves it before it is published.",
    )  # fmt: skip
    return redirect("approvals:rule-draft", pk)


@require_POST
def approve(request, pk):
    shown = _draft(request, pk)
    policies.can_approve_rule_draft(request.user, shown).enforce()  # 403, as the API
    perform(
        request, rule_drafts.approve_draft, shown, by=request.user,
        success="Approved: the rules are published.",
    )  # fmt: skip
    return redirect("approvals:rule-draft", pk)


@require_POST
def reject(request, pk):
    shown = _draft(request, pk)
    policies.can_approve_rule_draft(request.user, shown).enforce()
    perform(
        request, rule_drafts.reject_draft, shown, by=request.user,
        comment=request.POST.get("comment", ""), success="Rejected: the rules stay as they are.",
    )  # fmt: skip
    return redirect("approvals:rule-draft", pk)


@require_POST
def publish_in_emergency(request, pk):
    shown = _draft(request, pk)
    perform(
        request, rule_drafts.publish_in_emergency, shown, by=request.user,
        reason=request.POST.get("reason", ""),
        success="Published. The CIO and the CPO are told; a second admin approves it within a day.",
    )  # fmt: skip
    return redirect("approvals:rule-draft", pk)
