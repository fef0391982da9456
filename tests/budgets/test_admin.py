"""Budgets in the Django admin, and "over budget" as a condition in the rule admin."""

import pytest

from approvals.models import ApprovalRule
from audit.models import AuditEvent
from budgets.models import Budget
from tests.factories import DepartmentFactory

pytestmark = pytest.mark.django_db


def test_admins_keep_budgets_and_see_their_figures(
    client, admin_user, department, budget_owner, make_budget, django_assert_max_num_queries
):
    client.force_login(admin_user)
    response = client.post(
        "/admin/budgets/budget/add/",
        {
            "department": department.pk,
            "fiscal_year": "2027",
            "category": "",
            "amount": "50000",
            "owner": budget_owner.pk,
            "overrun_action": "block",
        },
    )
    assert response.status_code == 302
    budget = Budget.objects.get(fiscal_year=2027)
    assert budget.overrun_action == "block"
    assert AuditEvent.objects.for_object(budget).filter(kind="budget_created").exists()
    for n in range(5):
        make_budget("1000", department=DepartmentFactory(name=f"Dept {n}", cost_centre=f"DP{n}"))
    with django_assert_max_num_queries(12):
        page = client.get("/admin/budgets/budget/")
    html = page.content.decode()
    assert "50,000.00 EUR" in html and "Import a year from CSV" in html


def test_a_second_budget_for_the_same_department_and_year_is_refused(
    client, admin_user, department, budget_owner, make_budget
):
    make_budget("1000", fiscal_year=2027)
    client.force_login(admin_user)
    response = client.post(
        "/admin/budgets/budget/add/",
        {
            "department": department.pk,
            "fiscal_year": "2027",
            "amount": "5",
            "owner": budget_owner.pk,
            "overrun_action": "warn",
        },
    )
    assert response.status_code == 200
    assert Budget.objects.count() == 1


def test_over_budget_is_a_condition_in_the_rule_admin(client, admin_user, cio):
    client.force_login(admin_user)
    response = client.post(
        "/admin/approvals/approvalrule/add/",
        {
            "name": "CIO on overruns",
            "active": "on",
            "kind": "route",
            "over_budget": "true",
            "personal_data": "unknown",
            "reviewer_group": cio.groups.get().pk,
            "side": "it",
            "stage": "2",
            "sla_hours": "48",
            "repeat_every_hours": "24",
            "escalate_after_hours": "96",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    rule = ApprovalRule.objects.get(name="CIO on overruns")
    assert rule.over_budget is True
