"""Integer query parameters (issue #27): a page number, a page size, a fiscal year, a stage or an
id that is not a whole number ("2026.5", "1.5", "x", "2026.0", "1e3", "²") is a 400 naming the
parameter: JSON in the API, the 400 page on pages. Never silently rounded, never read as page
1, never a 5xx (core.query). A table: each row is one integer parameter of one page or API."""

import pytest

from approvals import workflow
from settings.api_urls import router
from tests.factories import DepartmentFactory, PurchaseRequestFactory

pytestmark = pytest.mark.django_db

NOT_INTEGERS = ["1.5", "2026.5", "2026.0", "x", "1e3", "²", "0x10", "-", ""]
NOT_INTEGERS = [value for value in NOT_INTEGERS if value]  # "" is "not given"


def department_id():
    return str(DepartmentFactory().pk)


# (path, parameter, who asks, a valid value (or a function giving one))
PAGES = [
    ("/requests/", "page", "requester", "1"),
    ("/vendors/", "page", "procurement", "1"),
    ("/notifications/", "page", "requester", "1"),
    ("/budgets/renewals/", "page", "procurement", "1"),
    ("/approvals/", "team_stage", "cio", "1"),
    ("/approvals/rules/preview/", "rule", "admin_user", "1"),
    ("/requests/duplicates/", "vendor", "requester", "1"),
    ("/requests/duplicates/", "exclude", "requester", "1"),
    ("/insights/", "department", "cio", department_id),
]
API = [
    ("/api/requests/", "page", "requester", "1"),
    ("/api/requests/", "page_size", "requester", "10"),
    ("/api/requests/?awaiting=me", "page_size", "it_reviewer", "10"),
    ("/api/requests/", "vendor", "cio", None),
    ("/api/vendors/", "page", "procurement", "1"),
    ("/api/vendors/", "page_size", "procurement", "10"),
    ("/api/budgets/", "fiscal_year", "cio", "2026"),
    ("/api/budgets/", "department", "cio", department_id),
    ("/api/budgets/", "page", "cio", "1"),
    ("/api/renewals/", "page", "cio", "1"),
    ("/api/metrics/", "department", "cio", department_id),
    ("/api/export/requests.csv", "department", "cio", department_id),
    ("/api/export/requests.csv", "vendor", "cio", None),
]


def with_param(path: str, param: str, value: str) -> str:
    from urllib.parse import urlencode

    return f"{path}{'&' if '?' in path else '?'}{urlencode({param: value})}"


def row_id(row):
    return f"{row[0]} {row[1]}"


@pytest.fixture
def people(request, requester, it_reviewer, procurement, cio, cpo, admin_user):
    return {
        "requester": requester, "it_reviewer": it_reviewer, "procurement": procurement,
        "cio": cio, "admin_user": admin_user,
    }  # fmt: skip


@pytest.mark.parametrize("value", NOT_INTEGERS)
@pytest.mark.parametrize("row", PAGES, ids=row_id)
def test_a_page_refuses_a_non_integer_parameter_with_a_400_page(client, people, row, value):
    path, param, who, _ = row
    client.force_login(people[who])
    response = client.get(with_param(path, param, value))
    assert response.status_code == 400
    page = response.content.decode()
    assert "Tandem did not understand this address" in page
    assert f"{param}: Give a whole number" in page


@pytest.mark.parametrize("value", NOT_INTEGERS)
@pytest.mark.parametrize("row", API, ids=row_id)
def test_the_api_refuses_a_non_integer_parameter_with_a_400_naming_it(api, people, row, value):
    path, param, who, _ = row
    response = api.as_user(people[who]).get(with_param(path, param, value))
    assert response.status_code == 400
    body = response.json()
    assert param in body, body


@pytest.mark.parametrize("row", PAGES + [r for r in API if r[3]], ids=row_id)
def test_a_whole_number_is_taken(client, people, row):
    path, param, who, valid = row
    client.force_login(people[who])
    value = valid() if callable(valid) else valid
    response = client.get(with_param(path, param, value))
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("param", "value", "message"),
    [
        ("page", "0", "Give a whole number of 1 or more."),
        ("page", "-1", "Give a whole number of 1 or more."),
        ("page_size", "0", "Give a whole number of 1 or more."),
        ("page", "9" * 40, "Give a whole number of 1 or more."),
    ],
)
def test_page_numbers_and_sizes_out_of_range_are_400(api, requester, param, value, message):
    response = api.as_user(requester).get(with_param("/api/requests/", param, value))
    assert response.status_code == 400
    assert response.json() == {param: [message]}


def test_a_fiscal_year_is_never_rounded(api, cio):
    """2026.5 was a Decimal to django-filter and the database compared it as 2026."""
    from budgets.models import Budget

    Budget.objects.create(department=DepartmentFactory(), fiscal_year=2026, amount=1000, owner=cio)
    response = api.as_user(cio).get("/api/budgets/?fiscal_year=2026.5")
    assert response.status_code == 400
    assert response.json() == {"fiscal_year": ["Give a whole number, e.g. 2: “2026.5” is not one."]}
    assert api.get("/api/budgets/?fiscal_year=2026").json()["count"] == 1


def test_a_page_past_the_last_shows_the_last_page_on_pages(client, requester):
    PurchaseRequestFactory(requester=requester)
    client.force_login(requester)
    assert client.get("/requests/?page=99").status_code == 200


def test_the_team_stage_filter_still_filters(client, requester, cio, cpo, it_reviewer):
    workflow.submit_request(PurchaseRequestFactory(requester=requester), by=requester)
    client.force_login(cio)
    assert client.get("/approvals/?team_stage=1").status_code == 200
    assert client.get("/approvals/?team_stage=100").status_code == 400


@pytest.mark.parametrize("prefix", [prefix for prefix, _, _ in router.registry])
def test_every_paged_api_list_refuses_a_page_that_is_no_number(client, admin_user, prefix):
    """Every list of the API pages with core.api.Pagination (steps and consultations have no
    list: 404)."""
    client.force_login(admin_user)  # a session: the token list is not for tokens
    for param in ("page", "page_size"):
        response = client.get(f"/api/{prefix}/?{param}=1.5")
        assert response.status_code in (400, 404), (prefix, param, response.status_code)
        if response.status_code == 400:
            assert param in response.json()
