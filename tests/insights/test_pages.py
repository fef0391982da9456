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
    # One unit for the chart, the one that fits its largest bar (72 h): days.
    assert charts["side-time"]["unit"] == "days"
    assert charts["side-time"]["datasets"][0]["label"] == "Average days to decide"
    assert charts["side-time"]["datasets"][0]["data"] == [1.1, 3.0, 0.2]
    table = re.search(r'id="table-spend-vendor".*?</table>', page, flags=re.DOTALL).group(0)
    may = re.search(r'<tr data-month="2026-05">.*?</tr>', table, flags=re.DOTALL).group(0)
    assert re.findall(r">([\d,]+)</td>", may) == ["3,000", "1,000", "4,000"]


def test_a_month_without_spend_is_said_in_words_not_as_zeros(client, cio, world):
    client.force_login(cio)
    page = html(client.get(DASHBOARD))
    table = re.search(r'id="table-spend-category".*?</table>', page, flags=re.DOTALL).group(0)
    february = re.search(r'<tr data-month="2026-02">.*?</tr>', table, flags=re.DOTALL).group(0)
    assert "No requests approved in February 2026" in february
    assert not re.findall(r">[\d,]+</td>", february)
    march = re.search(r'<tr data-month="2026-03">.*?</tr>', table, flags=re.DOTALL).group(0)
    assert "No requests approved" not in march and "2,000" in march


def test_every_chart_names_its_axes_with_their_units(client, cio, world, settings):
    settings.TANDEM_BASE_CURRENCY = "EUR"
    client.force_login(cio)
    charts = chart_data(client.get(DASHBOARD))
    for key in ("spend-category", "spend-vendor", "spend-department"):
        assert charts[key]["axes"] == {"x": "Month of approval", "y": "Spend (EUR)"}
    assert charts["side-time"]["axes"] == {"x": "Side", "y": "Average time to decide (days)"}


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
# SQLite only); sides; spend (3); renewals (2); certificates (2); the steps waiting for the user
# in the navigation (delegations, count); budgets with their figures (1)
DASHBOARD_QUERIES = 20


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
    assert "percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP" in sql  # one sort, both figures


def test_passed_notice_deadlines_are_flagged(client, cio, renewals):
    """Today 2026-06-15: "Ends today" had to be cancelled by 2026-04-16 (60 days' notice);
    "Ends on the horizon" may still be, until 2026-07-15."""
    client.force_login(cio)
    page = html(client.get(DASHBOARD))
    table = re.search(r'<table[^>]*id="renewals".*?</table>', page, re.S).group()
    passed = re.search(r"<tr>\s*<td><a[^>]*>Ends today</a>.*?</tr>", table, re.S).group()
    assert 'data-notice="passed"' in passed
    assert "notice deadline passed" in passed
    still_open = re.search(r"<tr>\s*<td><a[^>]*>Ends on the horizon</a>.*?</tr>", table, re.S)
    assert 'data-notice="open"' in still_open.group()
    assert "notice deadline passed" not in still_open.group()


@pytest.mark.parametrize(
    "value, shown",
    [
        (timedelta(seconds=20), "under a minute"),
        (timedelta(minutes=12, seconds=20), "12 min"),
        (timedelta(hours=5, minutes=30), "5.5 h"),
        (timedelta(hours=47), "47.0 h"),
        (timedelta(days=3, hours=6), "3.2 days"),
    ],
)
def test_durations_are_written_in_a_unit_that_fits(value, shown):
    from insights.templatetags.insights_format import duration

    assert duration(value) == shown


def test_steps_decided_within_minutes_read_in_minutes(client, cio, now):
    """Not "0.0 h": the table and the chart both use minutes."""
    department = DepartmentFactory(name="Ops")
    category = Category.objects.get(slug="saas-subscription")
    vendor = VendorFactory(name="Quick")
    request = add_request(
        State.APPROVED,
        department=department,
        category=category,
        vendor=vendor,
        cost=100,
        submitted=NOW - timedelta(hours=2),
        decided=NOW - timedelta(hours=1),
    )
    add_step(
        request,
        Side.IT,
        StepState.APPROVED,
        opened=NOW - timedelta(hours=2),
        decided=NOW - timedelta(hours=2) + timedelta(minutes=6),
    )
    client.force_login(cio)
    response = client.get(DASHBOARD)
    it_row = re.search(r'<tr data-side="it">.*?</tr>', html(response), re.S).group()
    assert "6 min" in it_row and "0.0 h" not in it_row
    side_time = chart_data(response)["side-time"]
    assert side_time["unit"] == "minutes"
    assert side_time["datasets"][0]["data"][0] == 6.0


def test_empty_dashboard_says_so_instead_of_empty_charts(client, cio, now):
    client.force_login(cio)
    page = html(client.get(DASHBOARD))
    assert 'data-chart="spend-category"' not in page
    assert "No approved spend in these 12 months" in page
    assert "No step decided yet" in page
