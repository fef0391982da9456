"""Issue #32: a rule change is a draft, backtested against the past year's requests and
published only when a second admin approves it (four eyes on the rules themselves)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command

from approvals import backtest, routing, rule_drafts, rule_versions
from approvals.models import ApprovalRule, DraftState, RuleDraft
from audit.models import AuditEvent
from core.errors import TransitionNotAllowed
from intake.models import PurchaseRequest
from notifications.models import Notification
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CIO_RULE = "CIO sign-off from 25,000 EUR"


@pytest.fixture
def ada():
    return UserFactory(username="ada", is_staff=True, is_superuser=True)


@pytest.fixture
def bob():
    return UserFactory(username="bob", is_staff=True, is_superuser=True)


def raise_cio_threshold(draft, by, to="50000"):
    rule = next(r for r in draft.rules if r["name"] == CIO_RULE)
    fields = {**_form_fields(rule), "min_total": Decimal(to)}
    return rule_drafts.save_draft_rule(draft, by=by, rule_id=rule["id"], fields=fields)


def _form_fields(rule: dict) -> dict:
    """A rule of a draft as the rule form's cleaned data would give it."""
    from django.contrib.auth.models import Group

    from approvals import rulesets

    fields = {name: rule[name] for name in rulesets.FIELDS}
    for name in ("reviewer_group_id", "escalation_group_id"):
        value = fields.pop(name)
        fields[name.removesuffix("_id")] = Group.objects.get(pk=value) if value else None
    for name in ("reviewer_user_id", "escalation_user_id"):
        fields.pop(name)
    fields["categories"], fields["departments"] = [], []
    return fields


@pytest.fixture
def run_backtest(django_capture_on_commit_callbacks):
    """Starts the backtest; Celery runs it in-process once the transaction commits."""

    def run(draft, by):
        with django_capture_on_commit_callbacks(execute=True):
            rule_drafts.start_backtest(draft, by=by)
        return RuleDraft.objects.get(pk=draft.pk)

    return run


@pytest.fixture
def demo(ada):
    call_command("seed_demo", verbosity=0)
    return rule_versions.current_version()


def test_raising_the_cio_threshold_reroutes_exactly_the_requests_between_the_amounts(
    demo, ada, run_backtest
):
    draft = raise_cio_threshold(rule_drafts.start_draft(by=ada), ada)
    assert rule_drafts.changes_of(draft) == [
        f"{CIO_RULE}: total cost from 25,000.00 EUR → from 50,000.00 EUR"
    ]
    draft = run_backtest(draft, ada)
    result = draft.backtest_result
    submitted = PurchaseRequest.objects.filter(submitted_at__isnull=False)
    between = submitted.filter(
        total_cost_base__gte=Decimal("25000"), total_cost_base__lt=Decimal("50000")
    )
    assert between.exists()
    assert result["replayed"] == submitted.count()
    assert result["changed"] == between.count()
    assert sorted(a["number"] for a in result["affected"]) == sorted(
        between.values_list("number", flat=True)
    )
    for affected in result["affected"]:
        assert len(affected["before"]) - len(affected["after"]) == 1
        assert [s for s in affected["before"] if s not in affected["after"]] == [
            "Stage 2: CIO (IT)"
        ]
    assert result["groups"] == [
        {"group": "CIO", "added": 0, "removed": between.count(),
         "per_week": round(-between.count() / (365 / 7), 1)}
    ]  # fmt: skip
    assert (draft.backtest_state, draft.backtest_done) == ("done", submitted.count())
    assert rule_drafts.backtest_is_current(draft)


def test_facts_from_a_row_are_the_facts_of_the_request(demo):
    for purchase_request in PurchaseRequest.objects.filter(submitted_at__isnull=False):
        row = PurchaseRequest.objects.values(*routing.FACT_COLUMNS).get(pk=purchase_request.pk)
        expected = routing.RequestFacts.of(purchase_request, with_budget=False)
        assert routing.facts_from_values(row) == expected


def test_the_author_cannot_approve_a_second_admin_publishes(demo, ada, bob, run_backtest):
    draft = raise_cio_threshold(rule_drafts.start_draft(by=ada, reason="Fewer CIO steps"), ada)
    with pytest.raises(TransitionNotAllowed, match="backtest"):
        rule_drafts.submit_draft(draft, by=ada)
    run_backtest(draft, ada)
    draft = rule_drafts.submit_draft(draft, by=ada)
    assert draft.state == DraftState.SUBMITTED
    assert Notification.objects.filter(recipient=bob, subject__contains="rule change").exists()

    with pytest.raises(PermissionDenied, match="second admin"):
        rule_drafts.approve_draft(draft, by=ada)
    assert ApprovalRule.objects.get(name=CIO_RULE).min_total == Decimal("25000")

    draft = rule_drafts.approve_draft(draft, by=bob)
    assert draft.state == DraftState.PUBLISHED
    assert ApprovalRule.objects.get(name=CIO_RULE).min_total == Decimal("50000")
    assert rule_versions.latest_version() == draft.published_version
    assert draft.published_version.changes == rule_drafts.changes_of(draft)
    kinds = list(
        AuditEvent.objects.filter(object_id=draft.pk, kind__startswith="rule_draft").values_list(
            "kind", flat=True
        )
    )
    assert {"rule_draft_started", "rule_draft_edited", "rule_draft_submitted",
            "rule_draft_approved", "rule_draft_published"} <= set(kinds)  # fmt: skip


def test_a_draft_edited_after_its_backtest_needs_a_new_one(demo, ada, run_backtest):
    draft = raise_cio_threshold(rule_drafts.start_draft(by=ada), ada)
    run_backtest(draft, ada)
    draft = raise_cio_threshold(RuleDraft.objects.get(pk=draft.pk), ada, to="60000")
    with pytest.raises(TransitionNotAllowed, match="backtest"):
        rule_drafts.submit_draft(draft, by=ada)


def test_approving_a_draft_not_submitted_is_refused(demo, ada, bob):
    draft = raise_cio_threshold(rule_drafts.start_draft(by=ada), ada)
    with pytest.raises(TransitionNotAllowed, match="submitted"):
        rule_drafts.approve_draft(draft, by=bob)


def test_a_draft_of_rules_changed_since_is_not_published(demo, ada, bob, run_backtest):
    draft = raise_cio_threshold(rule_drafts.start_draft(by=ada), ada)
    run_backtest(draft, ada)
    draft = rule_drafts.submit_draft(draft, by=ada)
    ApprovalRule.objects.filter(name=CIO_RULE).update(sla_hours=12)
    with pytest.raises(TransitionNotAllowed, match="rules changed"):
        rule_drafts.approve_draft(draft, by=bob)


def test_an_emergency_publication_tells_both_leaders_and_still_needs_a_second_admin(demo, ada, bob):
    draft = raise_cio_threshold(rule_drafts.start_draft(by=ada), ada)
    with pytest.raises(Exception, match="Say why"):
        rule_drafts.publish_in_emergency(draft, by=ada, reason=" ")
    draft = rule_drafts.publish_in_emergency(draft, by=ada, reason="CIO away for a month")
    assert draft.state == DraftState.PUBLISHED and draft.awaits_confirmation
    assert ApprovalRule.objects.get(name=CIO_RULE).min_total == Decimal("50000")
    told = set(
        Notification.objects.filter(subject__contains="emergency").values_list(
            "recipient__username", flat=True
        )
    )
    assert {"cora", "cleo"} <= told
    assert not rule_drafts.unconfirmed_emergencies().exists()  # not yet a day
    with pytest.raises(PermissionDenied):
        rule_drafts.approve_draft(draft, by=ada)
    draft = rule_drafts.approve_draft(draft, by=bob)
    assert not draft.awaits_confirmation and draft.decided_by == bob


def test_a_restored_version_is_a_new_draft_that_brings_its_rules_back(demo, ada, bob):
    old = rule_versions.latest_version()
    draft = raise_cio_threshold(rule_drafts.start_draft(by=ada), ada)
    rule_drafts.publish_in_emergency(draft, by=ada, reason="Urgent")
    restored = rule_drafts.start_draft(by=bob, from_version=old)
    assert restored.based_on.number == old.number + 1
    assert rule_drafts.changes_of(restored) == [
        f"{CIO_RULE}: total cost from 50,000.00 EUR → from 25,000.00 EUR"
    ]


def test_the_backtest_counts_by_amount_band_and_window():
    assert backtest.band_of(Decimal("30000")) == "25,000.00 EUR to 50,000.00 EUR"
    assert backtest.band_of(Decimal("100000")) == "From 100,000.00 EUR"
    start, end = backtest.window()
    assert (end - start).days == 365


def test_an_emergency_publication_not_approved_within_a_day_is_an_alert(demo, ada, bob):
    import time_machine
    from django.utils import timezone

    from operations.alerts import raise_alerts
    from operations.models import Alert, AlertKind

    draft = raise_cio_threshold(rule_drafts.start_draft(by=ada), ada)
    rule_drafts.publish_in_emergency(draft, by=ada, reason="CIO away")
    assert not [a for a in raise_alerts() if a.kind == AlertKind.RULES_UNCONFIRMED]
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        raised = [a for a in raise_alerts() if a.kind == AlertKind.RULES_UNCONFIRMED]
        assert len(raised) == 1 and f"Rule change {draft.pk}" in raised[0].summary
        assert not [a for a in raise_alerts() if a.kind == AlertKind.RULES_UNCONFIRMED]
        rule_drafts.approve_draft(draft, by=bob)
        raise_alerts()
    assert Alert.objects.get(kind=AlertKind.RULES_UNCONFIRMED).resolved_at is not None
