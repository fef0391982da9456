"""Two requests taking the same last euro at the same moment, on PostgreSQL with real threads:
the budget rows are locked while a submit or a decision changes the figures (SPEC §8a, §9)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from approvals import workflow
from approvals.models import Side
from approvals.services import decide_step
from budgets import selectors
from budgets.models import Budget
from tests.approvals.test_concurrency import run_together
from tests.factories import PurchaseRequestFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def two_requests(requester, department):
    requester.department = department
    requester.save()
    needed_by = timezone.localdate() + timedelta(days=5)
    return [
        PurchaseRequestFactory(
            requester=requester,
            department=department,
            total_cost=Decimal("6000"),
            needed_by=needed_by,
            title=f"Last euro {n}",
        )
        for n in (1, 2)
    ]


@pytest.mark.parametrize("attempt", range(3))
def test_two_submits_at_once_cannot_both_fit_the_last_euros(
    make_budget, two_requests, requester, attempt
):
    make_budget("10000", fiscal_year=timezone.localdate().year)
    outcomes = run_together(
        *[lambda r=r: workflow.submit_request(r, by=requester) for r in two_requests]
    )
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    with_owner = [r for r in two_requests if r.steps.filter(side=Side.FINANCE).exists()]
    assert len(with_owner) == 1


@pytest.mark.parametrize("attempt", range(3))
def test_two_approvals_at_once_never_push_committed_past_the_budget_unnoticed(
    make_budget, two_requests, requester, it_reviewer, procurement, budget_owner, attempt
):
    budget = make_budget("20000", fiscal_year=timezone.localdate().year)
    submitted = [workflow.submit_request(r, by=requester) for r in two_requests]
    for purchase_request in submitted:
        decide_step(purchase_request.steps.get(side="it"), by=it_reviewer, decision="approve")
    Budget.objects.filter(pk=budget.pk).update(amount=Decimal("10000"))

    outcomes = run_together(
        *[
            lambda r=r: decide_step(
                r.steps.get(side="procurement"), by=procurement, decision="approve"
            )
            for r in submitted
        ]
    )
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    states = sorted(type(r).objects.values_list("state", flat=True).get(pk=r.pk) for r in submitted)
    assert states == ["approved", "in_review"]
    waiting = next(r for r in submitted if r.steps.filter(side=Side.FINANCE).exists())
    assert waiting.steps.get(side=Side.FINANCE).user == budget_owner
    figures = selectors.with_figures(Budget.objects.filter(pk=budget.pk)).get()
    assert figures.committed == Decimal("6000.00")
