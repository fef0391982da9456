"""An overrun at submit and at approval: the budget owner's step, a warning or a refusal, per
the budget's setting (SPEC §8a)."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from approvals import workflow
from approvals.models import ApprovalRule, Side
from approvals.services import decide_step
from audit.models import AuditEvent
from budgets.models import OverrunAction
from notifications.models import Notification
from tests.factories import PurchaseRequestFactory, UserFactory

pytestmark = pytest.mark.django_db


def this_year() -> int:
    return timezone.localdate().year


@pytest.fixture
def needed_by():
    return timezone.localdate() + timedelta(days=1)


@pytest.fixture
def file_request(requester, department, needed_by):
    requester.department = department
    requester.save()

    def make(total, **fields):
        return PurchaseRequestFactory(
            requester=requester,
            department=department,
            total_cost=Decimal(total),
            needed_by=fields.pop("needed_by", needed_by),
            **fields,
        )

    return make


def open_steps(purchase_request):
    return purchase_request.steps.filter(state="open")


def approve_open(purchase_request, deciders):
    for step in open_steps(purchase_request):
        decide_step(step, by=deciders[step.side], decision="approve")


def test_a_request_within_budget_gets_no_owner_step(make_budget, file_request, requester):
    make_budget("5000", fiscal_year=this_year())
    purchase_request = workflow.submit_request(file_request("1000"), by=requester)
    assert not purchase_request.steps.filter(side=Side.FINANCE).exists()


def test_over_budget_adds_the_owner_step_after_the_reviews(
    make_budget, file_request, requester, budget_owner
):
    make_budget("5000", fiscal_year=this_year())
    purchase_request = workflow.submit_request(file_request("6000"), by=requester)
    owner_step = purchase_request.steps.get(side=Side.FINANCE)
    assert owner_step.user == budget_owner
    assert owner_step.stage == 2 and owner_step.state == "waiting"
    assert "takes 6,000.00 EUR of 5,000.00 EUR available" in owner_step.reasons[0]
    event = AuditEvent.objects.for_object(purchase_request).get(kind="over_budget")
    assert event.payload["budgets"][0]["action"] == OverrunAction.OWNER_APPROVAL
    assert Notification.objects.filter(recipient=budget_owner, channel="in_app").exists()


def test_the_timeline_names_the_overrun_in_words(
    client, make_budget, file_request, requester, budget_owner
):
    budget = make_budget("5000", fiscal_year=this_year())
    purchase_request = workflow.submit_request(file_request("6000"), by=requester)
    client.force_login(requester)
    page = client.get(purchase_request.get_absolute_url()).content.decode()
    assert f"Over budget: {budget}" in page
    assert "Over Budget" not in page


def test_what_others_have_in_flight_counts(make_budget, file_request, requester, charged):
    make_budget("5000", fiscal_year=this_year())
    charged("in_review", "3000", timezone.localdate() + timedelta(days=2))
    purchase_request = workflow.submit_request(file_request("2500"), by=requester)
    assert purchase_request.steps.filter(side=Side.FINANCE).exists()


def test_a_budget_set_to_block_refuses_submit(make_budget, file_request, requester):
    make_budget("5000", fiscal_year=this_year(), overrun_action=OverrunAction.BLOCK)
    purchase_request = file_request("6000")
    with pytest.raises(ValidationError) as raised:
        workflow.submit_request(purchase_request, by=requester)
    assert "Over budget" in raised.value.message_dict["department"][0]
    purchase_request.refresh_from_db()
    assert purchase_request.state == "draft"


def test_a_budget_set_to_warn_routes_as_usual_and_tells_the_owner(
    make_budget, file_request, requester, budget_owner
):
    make_budget("5000", fiscal_year=this_year(), overrun_action=OverrunAction.WARN)
    purchase_request = workflow.submit_request(file_request("6000"), by=requester)
    assert not purchase_request.steps.filter(side=Side.FINANCE).exists()
    assert AuditEvent.objects.for_object(purchase_request).filter(kind="over_budget").exists()
    assert Notification.objects.filter(recipient=budget_owner).exists()


def test_over_budget_is_a_rule_condition(make_budget, file_request, requester, cio, it_reviewer):
    make_budget("5000", fiscal_year=this_year(), overrun_action=OverrunAction.WARN)
    ApprovalRule.objects.create(
        name="CIO signs overruns",
        over_budget=True,
        reviewer_group=cio.groups.get(name="cio"),
        side=Side.IT,
        stage=2,
    )
    within = workflow.submit_request(file_request("1000"), by=requester)
    over = workflow.submit_request(file_request("6000"), by=requester)
    assert not within.steps.filter(group__name="cio").exists()
    step = over.steps.get(group__name="cio")
    assert step.reasons == ["CIO signs overruns: over budget"]


def test_the_owner_who_filed_the_request_leaves_the_overrun_to_finance(
    make_budget, department, needed_by
):
    owner = UserFactory(username="owner-requester", department=department)
    make_budget("100", fiscal_year=this_year(), owner=owner)
    purchase_request = PurchaseRequestFactory(
        requester=owner, department=department, needed_by=needed_by
    )
    purchase_request = workflow.submit_request(purchase_request, by=owner)
    step = purchase_request.steps.get(side=Side.FINANCE)
    assert step.user is None and step.group.name == "finance"


def test_approval_that_would_push_committed_past_the_budget_adds_the_owner_step(
    make_budget, file_request, requester, it_reviewer, procurement, budget_owner, charged
):
    budget = make_budget("10000", fiscal_year=this_year())
    purchase_request = workflow.submit_request(file_request("6000"), by=requester)
    assert not purchase_request.steps.filter(side=Side.FINANCE).exists()
    # Meanwhile another request is approved and the budget is lowered.
    charged("approved", "3000", timezone.localdate() + timedelta(days=3))
    budget.amount = Decimal("8000")
    budget.save()
    approve_open(purchase_request, {"it": it_reviewer, "procurement": procurement})
    purchase_request.refresh_from_db()
    assert purchase_request.state == "in_review"
    owner_step = purchase_request.steps.get(side=Side.FINANCE)
    assert owner_step.user == budget_owner and owner_step.state == "open"
    decide_step(owner_step, by=budget_owner, decision="approve")
    purchase_request.refresh_from_db()
    assert purchase_request.state == "approved"


@time_machine.travel(datetime(2026, 6, 15, 9, tzinfo=UTC), tick=False)
def test_a_term_that_spans_two_years_checks_both_budgets(make_budget, file_request, requester):
    make_budget("100000", fiscal_year=2026)
    make_budget("1000", fiscal_year=2027)
    # 200 a month from December 2026: 200 in 2026, 2,200 in 2027.
    purchase_request = workflow.submit_request(
        file_request("2400", billing="monthly", term_months=12, needed_by=date(2026, 12, 1)),
        by=requester,
    )
    owner_step = purchase_request.steps.get(side=Side.FINANCE)
    assert owner_step.reasons == [
        "over budget: Marketing FY 2027: this request takes 2,200.00 EUR of 1,000.00 EUR available"
    ]
