"""/api/budgets/ and /api/renewals/: 200, 400, 401, 403, 404 and a pinned query count."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from budgets import services
from tests.factories import DepartmentFactory, UserFactory, VendorFactory
from vendors.models import Contract

pytestmark = pytest.mark.django_db


@pytest.fixture
def budgets(make_budget, charged, software):
    charged("approved", "1500", date(2026, 3, 1))
    charged("in_review", "500", date(2026, 4, 1), category=software)
    return [make_budget("10000"), make_budget("2000", category=software)]


def test_reviewers_read_budgets_with_their_figures(api, it_reviewer, budgets):
    response = api.as_user(it_reviewer).get("/api/budgets/", {"fiscal_year": 2026})
    assert response.status_code == 200
    rows = {row["category"]: row for row in response.json()["results"]}
    assert rows[None]["committed"] == "1500.00"
    assert rows[None]["in_flight"] == "500.00"
    assert rows[None]["available"] == "8000.00"
    assert rows["Software licence"]["available"] == "1500.00"
    assert rows[None]["owner"] == "Olga Owner"
    assert rows[None]["overrun_action_label"] == "Add the budget owner's approval"


def test_one_budget_and_an_unknown_one(api, cpo, budgets):
    client = api.as_user(cpo)
    assert client.get(f"/api/budgets/{budgets[0].pk}/").json()["amount"] == "10000.00"
    assert client.get("/api/budgets/999999/").status_code == 404


@pytest.mark.parametrize(
    "query", [{"fiscal_year": "next"}, {"department": "x"}, {"fiscal_year": "99999"}]
)
def test_a_bad_filter_is_400(api, cpo, budgets, query):
    assert api.as_user(cpo).get("/api/budgets/", query).status_code == 400


def test_signed_out_is_401_and_requesters_see_their_own_department_only(
    api, requester, department, budgets
):
    assert api.get("/api/budgets/").status_code == 401
    assert api.get("/api/renewals/").status_code == 401
    response = api.as_user(requester).get("/api/budgets/")  # Rita is not in Marketing
    assert response.status_code == 200
    assert response.json()["results"] == []
    assert api.as_user(requester).get(f"/api/budgets/{budgets[0].pk}/").status_code == 404
    requester.department = department
    requester.save()
    rows = api.as_user(requester).get("/api/budgets/").json()["results"]
    assert {row["id"] for row in rows} == {budget.pk for budget in budgets}
    assert api.as_user(requester).get("/api/renewals/").status_code == 403


def test_the_budget_list_keeps_its_query_count(
    api, cpo, make_budget, django_assert_max_num_queries
):
    client = api.as_user(cpo)
    for n in range(8):
        make_budget("1000", department=DepartmentFactory(name=f"D{n}", cost_centre=f"D{n}"))
    with django_assert_max_num_queries(6):
        response = client.get("/api/budgets/")
    assert response.json()["count"] == 8


@pytest.fixture
def renewals(db):
    owner = UserFactory(username="carla", first_name="Carla", last_name="Owens")
    today = timezone.localdate()
    made = []
    for n, days in enumerate((40, 20, 70)):
        contract = Contract.objects.create(
            vendor=VendorFactory(name=f"Vendor R{n}"),
            title=f"Contract {n}",
            starts_on=today - timedelta(days=300),
            ends_on=today + timedelta(days=days),
            notice_days=30,
            annual_value=Decimal("1200"),
            owner=owner,
        )
        made.append(services.create_renewal(contract))
    return made


def test_procurement_lists_renewals_with_their_state_in_words(
    api, procurement, renewals, django_assert_max_num_queries
):
    client = api.as_user(procurement)
    with django_assert_max_num_queries(6):
        response = client.get("/api/renewals/")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["contract"] for row in rows] == ["Contract 1", "Contract 0", "Contract 2"]
    assert rows[0]["deadline_missed"] is True  # 20 days to the end, 30 days' notice
    assert rows[1]["deadline_missed"] is False
    assert rows[0]["status"] == "Draft, waiting for Carla Owens to submit it"
    assert client.get(f"/api/renewals/{renewals[0].pk}/").status_code == 200
    assert client.get("/api/renewals/0/").status_code == 404
