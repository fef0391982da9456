from decimal import Decimal

import pytest
from django.utils import timezone

from approvals import services, workflow
from approvals.models import NEW_VENDOR, ApprovalRule, ApprovalStep, RuleKind, Side, StepState
from approvals.routing import RequestFacts, active_rules, plan
from audit.models import AuditEvent
from intake.models import State
from tests.factories import CategoryFactory, DepartmentFactory, VendorFactory

pytestmark = pytest.mark.django_db


def reviewers(purchase_request, round=1):
    return sorted(
        (s.stage, s.side, s.group.name if s.group_id else str(s.user), s.state)
        for s in purchase_request.steps.filter(round=round)
    )


def test_every_request_gets_the_default_it_and_procurement_steps(submitted):
    purchase_request = submitted()
    assert purchase_request.state == State.IN_REVIEW
    assert reviewers(purchase_request) == [
        (1, "it", "it_reviewers", "open"),
        (1, "procurement", "procurement", "open"),
    ]


def test_matching_rules_add_later_stages_that_wait(submitted, leadership_rules):
    purchase_request = submitted(
        total_cost=Decimal("30000"),
        handles_personal_data=True,
        vendor=VendorFactory(status="prospective"),
    )
    assert reviewers(purchase_request) == [
        (1, "it", "it_reviewers", "open"),
        (1, "procurement", "procurement", "open"),
        (2, "it", "cio", "waiting"),
        (2, "procurement", "cpo", "waiting"),
    ]
    routed = AuditEvent.objects.for_object(purchase_request).get(kind="routed")
    assert any("CIO above 25k" in why for step in routed.payload["steps"] for why in step["why"])


def test_rules_below_their_threshold_do_not_match(submitted, leadership_rules):
    purchase_request = submitted(total_cost=Decimal("24999.99"))
    assert {s.stage for s in purchase_request.steps.all()} == {1}


def test_leader_rules_add_steps_and_never_remove_the_baseline(submitted, leadership_rules):
    purchase_request = submitted(total_cost=Decimal("30000"))
    assert reviewers(purchase_request) == [
        (1, "it", "it_reviewers", "open"),
        (1, "procurement", "procurement", "open"),
        (2, "it", "cio", "waiting"),
        (2, "procurement", "cpo", "waiting"),
    ]


def test_a_rule_on_a_side_adds_its_step_beside_that_sides_baseline(submitted, group):
    ApprovalRule.objects.create(
        name="Security review for personal data",
        personal_data=True,
        reviewer_user=None,
        reviewer_group=group("cio"),
        side=Side.IT,
        stage=1,
        sla_hours=8,
    )
    purchase_request = submitted(handles_personal_data=True)
    assert reviewers(purchase_request) == [
        (1, "it", "cio", "open"),
        (1, "it", "it_reviewers", "open"),
        (1, "procurement", "procurement", "open"),
    ]
    assert purchase_request.steps.get(group__name="cio").sla_hours == 8
    assert purchase_request.steps.get(group__name="it_reviewers").sla_hours == 48


def test_one_step_per_reviewer_and_stage_even_when_two_rules_name_it(submitted, group):
    for name in ("Restricted data", "Large spend"):
        ApprovalRule.objects.create(name=name, reviewer_group=group("cio"), side=Side.IT, stage=2)
    purchase_request = submitted()
    cio_steps = purchase_request.steps.filter(group__name="cio")
    assert cio_steps.count() == 1
    assert len(cio_steps.get().reasons) == 2


def test_joint_sign_off_holds_even_without_default_rules(submitted):
    ApprovalRule.objects.filter(kind=RuleKind.BASELINE).delete()
    purchase_request = submitted()
    assert {s.side for s in purchase_request.steps.all()} == {"it", "procurement"}


def test_auto_approval_approves_at_once_and_says_which_rule(submitted, auto_approve_rule):
    auto_approve_rule.categories.add(CategoryFactory(name="Hardware", slug="hardware"))
    auto_approve_rule.vendor_statuses = ["approved"]
    auto_approve_rule.save()
    purchase_request = submitted(
        category=CategoryFactory(name="Hardware", slug="hardware"), total_cost=Decimal("1500")
    )
    assert purchase_request.state == State.APPROVED
    # No review step; the approved request is procurement's to order.
    assert [(s.kind, s.state) for s in purchase_request.steps.all()] == [("order", "open")]
    event = AuditEvent.objects.for_object(purchase_request).get(kind="approve")
    assert event.payload["auto_approved_by"] == "Catalog hardware under 2k"


def test_auto_approval_does_not_apply_to_an_unapproved_vendor(submitted, auto_approve_rule):
    auto_approve_rule.vendor_statuses = ["approved"]
    auto_approve_rule.save()
    purchase_request = submitted(
        vendor=VendorFactory(status="prospective"), total_cost=Decimal("10")
    )
    assert purchase_request.state == State.IN_REVIEW


def test_rule_edits_leave_requests_in_review_unchanged(submitted):
    purchase_request = submitted()
    rule = ApprovalRule.objects.get(name="Default IT review")
    rule.sla_hours = 1
    rule.save()
    assert purchase_request.steps.get(side="it").sla_hours == 48


def test_every_condition_explains_itself(group):
    saas = CategoryFactory()
    marketing = DepartmentFactory(name="Marketing")
    rule = ApprovalRule.objects.create(
        name="Everything",
        min_total=Decimal("100"),
        max_total=Decimal("1000"),
        data_classifications=["confidential"],
        personal_data=True,
        vendor_statuses=[NEW_VENDOR],
        vendor_risk_tiers=[""] and ["high"],
        reviewer_group=group("it_reviewers"),
        side=Side.IT,
    )
    rule.categories.add(saas)
    rule.departments.add(marketing)
    facts = RequestFacts(
        total_base=Decimal("500"),
        category_id=saas.pk,
        category_name=saas.name,
        data_classification="confidential",
        personal_data=True,
        vendor_status=NEW_VENDOR,
        vendor_risk_tier="high",
        department_id=marketing.pk,
        department_name="Marketing",
    )
    steps = plan(facts).steps
    it_step = next(s for s in steps if s.side == "it")
    assert it_step.reasons[0] == "Default IT review: baseline IT review of every routed request"
    reasons = it_step.reasons[1]
    for expected in [
        "total cost 500.00 EUR ≥ 100.00 EUR",
        "total cost 500.00 EUR < 1,000.00 EUR",
        "category is SaaS subscription",
        "data classification is confidential",
        "handles personal data",
        "vendor status is new",
        "vendor risk tier is high",
        "department is Marketing",
    ]:
        assert expected in reasons
    # One failing condition and the rule does not match: only the baseline explains the step.
    other = plan(RequestFacts(**{**facts.__dict__, "personal_data": False})).steps
    it_step = next(s for s in other if s.side == "it")
    assert it_step.reasons == ["Default IT review: baseline IT review of every routed request"]


def test_resubmit_routes_a_fresh_round(submitted, requester, it_reviewer):
    from approvals.services import decide_step

    purchase_request = submitted()
    it_step = purchase_request.steps.get(side="it")
    decide_step(it_step, by=it_reviewer, decision="request_changes", comment="Add the DPA")
    purchase_request.refresh_from_db()
    assert purchase_request.state == State.CHANGES_REQUESTED
    workflow.resubmit_request(purchase_request, by=requester)
    assert reviewers(purchase_request, round=2) == [
        (1, "it", "it_reviewers", "open"),
        (1, "procurement", "procurement", "open"),
    ]
    assert ApprovalStep.objects.get(pk=it_step.pk).state == StepState.CHANGES_REQUESTED


# Active rules are compiled once and reused until a rule changes (approvals.routing)


def test_an_edited_rule_takes_effect_at_the_next_submit(submitted, group, admin_user):
    rule = ApprovalRule.objects.create(
        name="CIO above 1,000", min_total=Decimal("1000"), reviewer_group=group("cio"), side="it",
        stage=2,
    )  # fmt: skip
    assert (2, "it", "cio", "waiting") in reviewers(submitted(total_cost=Decimal("2000")))
    services.save_rule(rule, by=admin_user, fields={"min_total": Decimal("5000")})
    assert (2, "it", "cio", "waiting") not in reviewers(submitted(total_cost=Decimal("2000")))
    services.save_rule(rule, by=admin_user, fields={"min_total": Decimal("1500")})
    assert (2, "it", "cio", "waiting") in reviewers(submitted(total_cost=Decimal("2000")))


def test_a_rule_changed_by_another_process_takes_effect_at_the_next_submit(submitted, group):
    """No signal reaches this process: the rules' version, read at each routing, shows it."""
    rule = ApprovalRule.objects.create(
        name="CPO above 1,000", min_total=Decimal("1000"), reviewer_group=group("cpo"),
        side="procurement", stage=2,
    )  # fmt: skip
    cpo_step = (2, "procurement", "cpo", "waiting")
    assert cpo_step in reviewers(submitted(total_cost=Decimal("2000")))
    ApprovalRule.objects.filter(pk=rule.pk).update(active=False)  # a bulk update, no save()
    assert cpo_step not in reviewers(submitted(total_cost=Decimal("2000")))
    ApprovalRule.objects.filter(pk=rule.pk).update(
        active=True, min_total=Decimal("3000"), updated_at=timezone.now()
    )  # another process's save
    assert cpo_step not in reviewers(submitted(total_cost=Decimal("2000")))
    assert cpo_step in reviewers(submitted(total_cost=Decimal("4000")))
    ApprovalRule.objects.filter(pk=rule.pk).delete()
    assert cpo_step not in reviewers(submitted(total_cost=Decimal("4000")))


def test_a_bulk_change_of_a_rule_s_figures_takes_effect_at_the_next_submit(submitted, group):
    """A data fix such as `ApprovalRule.objects.update(min_total=…)` names no `updated_at`; the
    rules' queryset moves it anyway, so every process's compiled rules are read again."""
    rule = ApprovalRule.objects.create(
        name="CIO above 1,000", min_total=Decimal("1000"), reviewer_group=group("cio"), side="it",
        stage=2,
    )  # fmt: skip
    cio_step = (2, "it", "cio", "waiting")
    assert cio_step in reviewers(submitted(total_cost=Decimal("2000")))
    ApprovalRule.objects.filter(pk=rule.pk).update(min_total=Decimal("3000"))
    assert cio_step not in reviewers(submitted(total_cost=Decimal("2000")))


def test_routing_reads_the_rules_once_while_they_do_not_change(
    submitted, leadership_rules, django_assert_max_num_queries
):
    submitted()
    with django_assert_max_num_queries(1):
        assert len(active_rules()) >= len(leadership_rules)


def test_submit_runs_as_many_queries_for_six_steps_as_for_two(requester, group, leadership_rules):
    """Submit writes its steps, their opening and their reviewers' notices in bulk: more steps
    and more reviewers cost no more statements (issue 15)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import PurchaseRequestFactory, UserFactory

    for name in ("it_reviewers", "procurement", "cio", "cpo"):
        for n in range(3):
            UserFactory(username=f"{name}-{n}", roles=[name])
    for stage in (1, 2):
        for side, name in (("it", "cio"), ("procurement", "cpo")):
            ApprovalRule.objects.create(
                name=f"{name} at stage {stage} above 100k", min_total=Decimal("100000"),
                reviewer_group=group(name), side=side, stage=stage, sla_hours=24 * stage,
            )  # fmt: skip

    def queries_of_submit(total_cost):
        purchase_request = PurchaseRequestFactory(requester=requester, total_cost=total_cost)
        with CaptureQueriesContext(connection) as captured:
            workflow.submit_request(purchase_request, by=requester)
        return len(captured), purchase_request

    queries_of_submit(Decimal("500"))  # warms what is cached per process (rules, content types)
    few, small = queries_of_submit(Decimal("500"))
    many, large = queries_of_submit(Decimal("200000"))
    assert small.steps.filter(state=StepState.OPEN).count() == 2
    assert large.steps.count() == 6
    assert large.steps.filter(state=StepState.OPEN).count() == 4
    assert many == few, f"{few} queries for 2 steps, {many} for 6"
    # Opened in one statement, each step still has its own clock: 24 h before 48 h.
    opened = large.steps.filter(state=StepState.OPEN)
    by_sla = {s.rule.sla_hours: s.due_at for s in opened.select_related("rule")}
    assert set(by_sla) == {24, 48}
    assert by_sla[24] < by_sla[48]


def test_a_step_opened_in_bulk_can_be_saved_again_from_the_same_object(requester):
    """The stage is opened by one UPDATE; the step objects still know their row says "open",
    so saving one again (a decision in the same transaction) is not taken for a concurrent
    change."""
    from tests.factories import PurchaseRequestFactory

    purchase_request = PurchaseRequestFactory(requester=requester)
    steps = workflow.create_steps(
        plan(RequestFacts.of(purchase_request)).steps, request=purchase_request, round=1
    )
    opened = workflow.open_stage(steps, stage=1)
    assert opened
    opened[0].comment = "saved again"
    opened[0].save()
    assert ApprovalStep.objects.get(pk=opened[0].pk).state == StepState.OPEN
