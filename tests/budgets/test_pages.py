"""The budget panel of the request form, the renewals page, the CSV import and the dashboard's
budgets (SPEC §8a)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from audit.models import AuditEvent
from budgets import services
from budgets.models import Budget
from tests.factories import DepartmentFactory, PurchaseRequestFactory, UserFactory, VendorFactory
from tests.intake.test_pages import form_data
from vendors.models import Contract

pytestmark = pytest.mark.django_db


def panel_data(department, **overrides):
    return form_data(
        department=department.pk,
        needed_by=(timezone.localdate() + timedelta(days=10)).isoformat(),
        billing="one_off",
        term_months="",
        **overrides,
    )


def test_the_panel_shows_budget_what_the_request_takes_and_what_stays(
    client, requester, department, make_budget, charged
):
    make_budget("10000", fiscal_year=(timezone.localdate() + timedelta(days=10)).year)
    charged("approved", "4000", timezone.localdate() + timedelta(days=10))
    requester.department = department  # the budget of one's own department
    requester.save()
    client.force_login(requester)
    response = client.post("/budgets/intake-panel/", panel_data(department))
    html = response.content.decode()
    assert response.status_code == 200
    assert "10,000.00 EUR" in html and "6,000.00 EUR" in html  # budget, available now
    assert "450.00 EUR" in html and "5,550.00 EUR" in html  # this request, stays available
    assert "Within budget" in html

    over = client.post(
        "/budgets/intake-panel/", panel_data(department, **{"items-0-quantity": "50"})
    )
    html = over.content.decode()
    assert 'data-overrun="owner_approval"' in html
    assert "Olga Owner, who owns the budget, approves it after the reviews" in html


def test_the_panel_asks_for_a_department(client, requester):
    client.force_login(requester)
    html = client.post("/budgets/intake-panel/", form_data()).content.decode()
    assert "Choose the department to charge" in html


def test_the_panel_survives_any_input(client, requester):
    client.force_login(requester)
    for data in ({"department": "x", "needed_by": "1-1-1"}, {"items-TOTAL_FORMS": "9999"}, {}):
        assert client.post("/budgets/intake-panel/", data).status_code == 200


def test_a_request_without_a_department_cannot_be_submitted(client, api):
    nobody = UserFactory(username="nodept", department=None)
    client.force_login(nobody)
    response = client.post("/requests/new/", form_data(submit="1"), follow=True)
    assert "Give the department to charge." in response.content.decode()
    draft = PurchaseRequestFactory(requester=nobody, department=None)
    response = api.as_user(nobody).post(f"/api/requests/{draft.pk}/submit/")
    assert response.status_code == 400
    assert response.json()["department"] == ["Give the department to charge."]


def test_a_blocking_budget_refuses_submit_on_the_page(client, requester, department, make_budget):
    make_budget("100", fiscal_year=(timezone.localdate() + timedelta(days=10)).year,
                overrun_action="block")  # fmt: skip
    client.force_login(requester)
    response = client.post("/requests/new/", panel_data(department, submit="1"), follow=True)
    assert "does not allow requests beyond it" in response.content.decode()


@pytest.fixture
def renewal_rows(db):
    owner = UserFactory(username="carla", first_name="Carla", last_name="Owens")
    today = timezone.localdate()
    for n in range(6):
        contract = Contract.objects.create(
            vendor=VendorFactory(name=f"Renewing vendor {n}"),
            title=f"Contract {n}",
            starts_on=today - timedelta(days=300),
            ends_on=today + timedelta(days=20 + 10 * n),
            notice_days=30,
            annual_value=Decimal("1200"),
            owner=owner,
        )
        services.create_renewal(contract)


def test_procurement_sees_renewals_with_missed_deadlines_flagged(
    client, procurement, renewal_rows, django_assert_max_num_queries
):
    client.force_login(procurement)
    with django_assert_max_num_queries(12):
        response = client.get("/budgets/renewals/")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("deadline passed without a decision") == 1  # ends in 20 days
    assert "Draft, waiting for Carla Owens to submit it" in html
    assert 'href="/budgets/renewals/"' in html  # the navigation entry


def test_requesters_may_not_see_renewals(client, requester):
    client.force_login(requester)
    assert client.get("/budgets/renewals/").status_code == 403
    assert "/budgets/renewals/" not in client.get("/requests/").content.decode()


def upload(text):
    return SimpleUploadedFile("budgets.csv", text.encode(), content_type="text/csv")


def test_importing_a_year_of_budgets(client, admin_user, budget_owner, software):
    DepartmentFactory(name="Sales", cost_centre="SAL")
    DepartmentFactory(name="Marketing", cost_centre="MKT")
    client.force_login(admin_user)
    text = (
        "cost_centre,category,amount,owner,overrun_action\n"
        "MKT,,120000,olga,owner_approval\n"
        "MKT,software-licence,40000.50,olga,block\n"
        "SAL,,90000,olga,\n"
    )
    response = client.post("/budgets/import/", {"fiscal_year": 2027, "file": upload(text)})
    assert response.status_code == 302
    assert Budget.objects.filter(fiscal_year=2027).count() == 3
    assert Budget.objects.get(category=software).amount == Decimal("40000.50")
    assert AuditEvent.objects.filter(kind="budget_imported").count() == 3
    again = "cost_centre,amount,owner\nMKT,130000,olga\n"
    client.post("/budgets/import/", {"fiscal_year": 2027, "file": upload(again)})
    assert Budget.objects.get(
        fiscal_year=2027, category=None, department__cost_centre="MKT"
    ).amount == Decimal("130000")


def test_a_file_with_errors_imports_nothing_and_names_each_line(client, admin_user, budget_owner):
    DepartmentFactory(name="Marketing", cost_centre="MKT")
    client.force_login(admin_user)
    text = (
        "cost_centre,category,amount,owner,overrun_action\n"
        "MKT,,120000,olga,\n"
        "XXX,,10,olga,\n"
        "MKT,nope,-5,ghost,maybe\n"
    )
    response = client.post("/budgets/import/", {"fiscal_year": 2027, "file": upload(text)})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Nothing was imported" in html
    assert "Line 3: no department with cost centre “XXX”." in html
    assert "Line 4:" in html and "ghost" in html and "maybe" in html
    assert not Budget.objects.exists()


@pytest.mark.parametrize("content", [b"\xff\xfe\x00bad", b"cost_centre\n", b"", b"a,b\n1,2\n"])
def test_a_bad_file_is_refused_without_an_error_page(client, admin_user, content):
    client.force_login(admin_user)
    response = client.post(
        "/budgets/import/",
        {"fiscal_year": 2027, "file": SimpleUploadedFile("x.csv", content)},
    )
    assert response.status_code == 200
    assert not Budget.objects.exists()


def test_only_finance_and_admins_import(client, it_reviewer):
    client.force_login(it_reviewer)
    assert client.get("/budgets/import/").status_code == 403


def test_the_dashboard_shows_budget_against_committed_and_in_flight(
    client, cio, make_budget, charged
):
    year = timezone.localdate().year
    make_budget("10000", fiscal_year=year)
    charged("approved", "12000", date(year, 12, 31))
    client.force_login(cio)
    html = client.get("/insights/").content.decode()
    assert 'id="table-budgets"' in html
    assert "over budget" in html
    assert '"budgets"' in html  # the chart's data
