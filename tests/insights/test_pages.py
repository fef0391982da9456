"""The dashboard page: who sees it, what it shows, its charts' data, and a fixed number of
queries whatever the number of requests."""

import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from approvals.models import Side, StepState
from intake.models import Category, State
from tests.factories import DepartmentFactory, VendorFactory

from .conftest import NOW, add_request, add_step

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("insights:dashboard")


def html(response) -> str:
    return response.content.decode()


def figure(response, name: str) -> str:
    """The value shown on the card `name`."""
    match = re.search(
        rf'data-figure="{name}".*?data-value>(.*?)</div>', html(response), flags=re.DOTALL
    )
    assert match, name
    return " ".join(match.group(1).split())


def chart_data(response) -> dict:
    match = re.search(
        r'<script id="insights-charts" type="application/json">(.*?)</script>', html(response)
    )
    assert match
    return json.loads(match.group(1))


def inline_scripts(response) -> list[str]:
    """Script elements with code in the page (not `src=`, not JSON data)."""
    return [
        tag
        for tag in re.findall(r"<script\b[^>]*>", html(response))
        if "src=" not in tag and "application/json" not in tag
    ]


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(DASHBOARD)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_requesters_get_403(client, requester):
    client.force_login(requester)
    assert client.get(DASHBOARD).status_code == 403


def test_the_cio_sees_the_figures(client, cio, world, renewals):
    client.force_login(cio)
    response = client.get(DASHBOARD)
    assert response.status_code == 200
    assert figure(response, "median-cycle-time") == "3.5 days"
    assert figure(response, "p90-cycle-time") == "7.5 days"
    assert figure(response, "approval-rate") == "83.3 %"
    assert figure(response, "rejection-rate") == "16.7 %"
    assert figure(response, "change-request-rate") == "16.7 %"
    assert figure(response, "sla-breach-rate") == "36.4 %"
    assert figure(response, "open-value") == "6,500 EUR"
    assert figure(response, "renewals") == "2 / 2"
    page = html(response)
    assert "Ends on the horizon" in page
    assert 'id="scope-note"' not in page
    assert 'id="export-audit"' in page


def test_each_chart_has_its_data_and_a_table(client, cio, world):
    client.force_login(cio)
    response = client.get(DASHBOARD)
    charts = chart_data(response)
    page = html(response)
    for key in ("spend-category", "spend-vendor", "spend-department", "side-time"):
        assert f'data-chart="{key}"' in page
        assert f'id="table-{key}"' in page
    category = charts["spend-category"]
    assert len(category["labels"]) == 12
    assert category["labels"][-1] == "Jun 2026"
    assert [(d["label"], sum(d["data"])) for d in category["datasets"]] == [
        ("Hardware", 5000.0),
        ("SaaS subscription", 1500.0),
    ]
    assert charts["side-time"]["labels"] == ["IT", "Procurement", "Finance"]
    assert charts["side-time"]["datasets"][0]["data"] == [27.0, 72.0, 6.0]
    table = re.search(r'id="table-spend-vendor".*?</table>', page, flags=re.DOTALL).group(0)
    may = re.search(r'<tr data-month="2026-05">.*?</tr>', table, flags=re.DOTALL).group(0)
    assert re.findall(r">([\d,]+)</td>", may) == ["3,000", "1,000", "4,000"]


def test_the_page_adds_no_inline_script(client, cio, world):
    """A Content-Security-Policy without 'unsafe-inline' is coming: the charts are drawn by
    static/js/dashboard.js from json_script data, never by code in the page."""
    client.force_login(cio)
    dashboard = client.get(DASHBOARD)
    other_page = client.get(reverse("intake:my-requests"))
    assert len(inline_scripts(dashboard)) == len(inline_scripts(other_page))
    assert "/static/vendor/chart.js/chart.umd.js" in html(dashboard)
    assert "/static/js/dashboard.js" in html(dashboard)
    assert " style=" not in html(dashboard).split('id="main"')[1]


def test_filters_narrow_the_figures(client, cio, world):
    client.force_login(cio)
    response = client.get(DASHBOARD, {"department": world.sales.pk, "from": "2026-01-01"})
    assert figure(response, "median-cycle-time") == "4.0 days"
    assert figure(response, "open-value") == "1,500 EUR"
    assert 'value="2026-01-01"' in html(response)
    export = re.search(r'id="export-requests" href="([^"]+)"', html(response)).group(1)
    assert export == (
        f"{reverse('insights:export-requests')}?from=2026-01-01&amp;department={world.sales.pk}"
    )


def test_invalid_filters_are_shown_and_ignored(client, cio, world):
    client.force_login(cio)
    response = client.get(DASHBOARD, {"from": "2026-05-01", "to": "2026-04-01"})
    assert response.status_code == 200
    assert "The end date must not be before the start date." in html(response)
    assert figure(response, "median-cycle-time") == "3.5 days"  # unfiltered


def test_a_reviewer_sees_the_figures_of_their_side(client, it_reviewer, world):
    client.force_login(it_reviewer)
    response = client.get(DASHBOARD)
    assert response.status_code == 200
    assert "Step figures of your side only: IT." in html(response)
    assert figure(response, "sla-breach-rate") == "60.0 %"
    assert chart_data(response)["side-time"]["labels"] == ["IT"]
    assert 'id="export-audit"' not in html(response)


def organisation(size: int):
    """`size` approved requests over two departments, each with its own vendor and decided
    steps, plus as many in review with an open step: more rows in every group the dashboard
    reads. Returns the departments."""
    category = Category.objects.get(slug="hardware")
    departments = [DepartmentFactory(), DepartmentFactory()]
    for i in range(size):
        department = departments[i % 2]
        vendor = VendorFactory()
        month = NOW - timedelta(days=30 * (i % 12) + 5)
        approved = add_request(
            State.APPROVED,
            department=department,
            category=category,
            vendor=vendor,
            cost=100 + i,
            submitted=month - timedelta(days=3),
            decided=month,
        )
        add_step(approved, Side.IT, StepState.APPROVED, opened=month - timedelta(days=3))
        add_step(approved, Side.PROCUREMENT, StepState.APPROVED, opened=month - timedelta(2))
        waiting = add_request(
            State.IN_REVIEW,
            department=department,
            category=category,
            vendor=vendor,
            cost=Decimal(10),
            submitted=NOW - timedelta(days=1),
        )
        add_step(waiting, Side.IT, StepState.OPEN, opened=NOW - timedelta(days=1))
    return departments


# session, user, groups, notifications; department (filter, options); requests; percentiles (2,
# SQLite only); sides; spend (3); renewals (2); certificates (2)
DASHBOARD_QUERIES = 17


@pytest.mark.parametrize("size", [2, 30])
def test_the_dashboard_runs_a_fixed_number_of_queries(
    client, cio, now, renewals, size, django_assert_max_num_queries
):
    department = organisation(size)[0]
    client.force_login(cio)
    with django_assert_max_num_queries(DASHBOARD_QUERIES):
        response = client.get(DASHBOARD, {"from": "2025-01-01", "department": department.pk})
    assert response.status_code == 200
    assert figure(response, "approval-rate") == "100.0 %"


@pytest.mark.postgres
def test_postgres_computes_percentiles_with_percentile_cont(client, cio, world):
    client.force_login(cio)
    with CaptureQueriesContext(connection) as queries:
        client.get(DASHBOARD)
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert "percentile_cont(0.5) WITHIN GROUP" in sql
    assert "percentile_cont(0.9) WITHIN GROUP" in sql
