"""CSV exports of requests and of the audit trail: content, filters, who may export,
formula neutralisation, and that the response is streamed."""

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import transaction
from django.http import StreamingHttpResponse
from django.urls import reverse

from audit.services import record_event
from insights import exports
from intake.models import State
from tests.factories import PurchaseRequestFactory, UserFactory

pytestmark = pytest.mark.django_db

REQUESTS_CSV = reverse("insights:export-requests")
AUDIT_CSV = reverse("insights:export-audit")


def read_csv(response) -> list[dict]:
    assert isinstance(response, StreamingHttpResponse)
    assert response.streaming
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(body.removeprefix("\ufeff"))))


def numbers(response) -> list[str]:
    return [row["Number"] for row in read_csv(response)]


@pytest.fixture
def rita_requests(requester):
    """Rita's own requests: a draft, one in review, one approved (another category)."""
    draft = PurchaseRequestFactory(requester=requester, number="PR-2026-00001", title="Draft")
    in_review = PurchaseRequestFactory(
        requester=requester, number="PR-2026-00002", state=State.IN_REVIEW
    )
    approved = PurchaseRequestFactory(
        requester=requester,
        number="PR-2026-00003",
        state=State.APPROVED,
        category__name="Hardware",
        category__slug="hardware",
        currency="USD",
        total_cost=Decimal("1234.50"),
        total_cost_base=Decimal("1100.00"),
    )
    return {"draft": draft, "in_review": in_review, "approved": approved}


# ---- formula injection ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Laptops = 2", "Laptops = 2"),
        ("", ""),
    ],
)
def test_cells_a_spreadsheet_would_run_are_neutralised(text, expected):
    assert exports.cell(text) == expected


def test_a_title_with_a_formula_is_exported_as_text(client, requester):
    PurchaseRequestFactory(requester=requester, title='=HYPERLINK("http://evil","click")')
    PurchaseRequestFactory(requester=requester, title="@SUM(1+1)")
    client.force_login(requester)
    titles = sorted(row["Title"] for row in read_csv(client.get(REQUESTS_CSV)))
    assert titles == ['\'=HYPERLINK("http://evil","click")', "'@SUM(1+1)"]


# ---- requests -------------------------------------------------------------------------------


def test_signed_out_visitors_are_sent_to_sign_in(client):
    for url in (REQUESTS_CSV, AUDIT_CSV):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_the_requests_export_is_a_streamed_csv_attachment(client, requester, rita_requests):
    client.force_login(requester)
    response = client.get(REQUESTS_CSV)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="tandem-requests-')
    rows = read_csv(response)
    assert [r["Number"] for r in rows] == ["PR-2026-00001", "PR-2026-00002", "PR-2026-00003"]
    approved = rows[2]
    assert approved["State"] == "Approved"
    assert approved["Requester"] == "rita"
    assert approved["Category"] == "Hardware"
    assert approved["Currency"] == "USD"
    assert approved["Total cost"] == "1234.50"
    assert approved["Total cost (EUR)"] == "1100.00"
    assert approved["Billing"] == "One-off"
    assert approved["Department"] == requester.department.name


def test_a_requester_exports_only_the_requests_they_may_see(
    client, requester, other_requester, rita_requests
):
    PurchaseRequestFactory(requester=other_requester, number="PR-2026-00099")
    client.force_login(requester)
    assert "PR-2026-00099" not in numbers(client.get(REQUESTS_CSV))
    client.force_login(other_requester)
    assert numbers(client.get(REQUESTS_CSV)) == ["PR-2026-00099"]


def test_the_cio_exports_every_request(client, cio, requester, other_requester, rita_requests):
    PurchaseRequestFactory(requester=other_requester, number="PR-2026-00099")
    client.force_login(cio)
    assert len(numbers(client.get(REQUESTS_CSV))) == 4


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"state": "draft"}, ["PR-2026-00001", "PR-2026-00099"]),
        ({"state": ["draft", "approved"]}, ["PR-2026-00001", "PR-2026-00003", "PR-2026-00099"]),
        ({"category": "hardware"}, ["PR-2026-00003"]),
        ({"mine": "true"}, ["PR-2026-00099"]),
        ({"mine": "false", "state": "in_review"}, ["PR-2026-00002"]),
    ],
)
def test_the_filters_of_the_requests_list(client, cio, rita_requests, params, expected):
    PurchaseRequestFactory(requester=cio, number="PR-2026-00099")
    client.force_login(cio)
    assert numbers(client.get(REQUESTS_CSV, params)) == expected


def test_the_department_and_submission_date_filters(client, cio, world):
    client.force_login(cio)
    sales = numbers(client.get(REQUESTS_CSV, {"department": world.sales.pk}))
    assert sales == [world.requests[k].number for k in ("C", "D", "E", "G")]
    may = numbers(client.get(REQUESTS_CSV, {"from": "2026-05-01", "to": "2026-05-03"}))
    assert may == [world.requests["A"].number, world.requests["B"].number]


def test_awaiting_me(client, it_reviewer, world):
    """From "Waiting for me": the requests with a step the reviewer may decide now."""
    client.force_login(it_reviewer)
    assert numbers(client.get(REQUESTS_CSV, {"awaiting": "me"})) == [world.requests["F"].number]


def test_times_are_in_the_users_time_zone(client, world):
    berliner = UserFactory(username="bert", time_zone="Europe/Berlin", roles=["cio"])
    client.force_login(berliner)
    rows = {r["Number"]: r for r in read_csv(client.get(REQUESTS_CSV))}
    assert rows[world.requests["A"].number]["Submitted"] == "2026-05-01T11:00:00+02:00"


def test_a_bad_filter_is_400(client, cio):
    client.force_login(cio)
    response = client.get(REQUESTS_CSV, {"from": "2026-02-30"})
    assert response.status_code == 400
    assert response.content.decode().startswith("from: ")


def test_rows_are_read_in_chunks(client, cio, requester, monkeypatch):
    """Whatever the chunk size, every row comes out once: the export reads with .iterator()."""
    monkeypatch.setattr(exports, "CHUNK_SIZE", 3)
    monkeypatch.setattr(exports, "LINES_PER_WRITE", 2)
    PurchaseRequestFactory.create_batch(8, requester=requester)
    client.force_login(cio)
    response = client.get(REQUESTS_CSV)
    chunks = list(response.streaming_content)
    assert len(chunks) == 1 + 4  # the header, then 8 rows two at a time
    assert sum(chunk.count(b"PR-2099-") for chunk in chunks) == 8


def test_the_streamed_export_runs_its_queries_while_streaming(
    client, cio, requester, django_assert_max_num_queries
):
    PurchaseRequestFactory.create_batch(5, requester=requester)
    client.force_login(cio)
    response = client.get(REQUESTS_CSV)
    with django_assert_max_num_queries(1):
        assert len(b"".join(response.streaming_content).splitlines()) == 6


# ---- audit trail ----------------------------------------------------------------------------


@pytest.fixture
def events(requester, it_reviewer, now):
    purchase_request = PurchaseRequestFactory(requester=requester, number="PR-2026-00042")
    with transaction.atomic():
        record_event(purchase_request, actor=requester, kind="created", to_state=State.DRAFT)
        record_event(
            purchase_request,
            actor=it_reviewer,
            on_behalf_of=requester,
            kind="commented",
            payload={"comment": "=1+1"},
        )
    return purchase_request


@pytest.mark.parametrize("who", ["admin_user", "cio", "cpo"])
def test_leaders_and_admins_export_the_audit_trail(client, request, who, events):
    client.force_login(request.getfixturevalue(who))
    response = client.get(AUDIT_CSV)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="tandem-audit-trail-')
    rows = read_csv(response)
    assert [(r["Kind"], r["Subject"], r["Object type"]) for r in rows] == [
        ("created", "PR-2026-00042", "intake.purchaserequest"),
        ("commented", "PR-2026-00042", "intake.purchaserequest"),
    ]
    assert rows[1]["Actor"] == "ivan"
    assert rows[1]["On behalf of"] == "rita"
    assert rows[1]["Details"] == '{"comment": "=1+1"}'
    assert rows[0]["Occurred"] == "2026-06-15T12:00:00+00:00"


@pytest.mark.parametrize("who", ["requester", "it_reviewer", "procurement"])
def test_others_may_not_export_the_audit_trail(client, request, who, events):
    client.force_login(request.getfixturevalue(who))
    assert client.get(AUDIT_CSV).status_code == 403


def test_the_audit_export_filters_by_date(client, cio, requester, time_machine):
    purchase_request = PurchaseRequestFactory(requester=requester)
    for day in (1, 2, 3):
        time_machine.move_to(datetime(2026, 5, day, 12, tzinfo=UTC), tick=False)
        with transaction.atomic():
            record_event(purchase_request, actor=requester, kind=f"day-{day}")
    client.force_login(cio)
    rows = read_csv(client.get(AUDIT_CSV, {"from": "2026-05-02", "to": "2026-05-02"}))
    assert [r["Kind"] for r in rows] == ["day-2"]
    assert client.get(AUDIT_CSV, {"to": "never"}).status_code == 400


def test_a_formula_in_an_event_is_neutralised(client, cio, requester, now):
    purchase_request = PurchaseRequestFactory(requester=requester)
    with transaction.atomic():
        record_event(purchase_request, actor=requester, kind="-cmd|' /C calc'!A0")
    client.force_login(cio)
    assert read_csv(client.get(AUDIT_CSV))[0]["Kind"] == "'-cmd|' /C calc'!A0"


# ---- API ------------------------------------------------------------------------------------


def test_api_exports_need_credentials(api):
    assert api.get("/api/export/requests.csv").status_code == 401
    assert api.get("/api/export/audit.csv").status_code == 401


def test_api_exports_with_a_token(api, requester, rita_requests, events):
    api.as_user(requester)
    response = api.get("/api/export/requests.csv", {"state": "approved"}, HTTP_ACCEPT="text/csv")
    assert response.status_code == 200
    assert numbers(response) == ["PR-2026-00003"]
    assert api.get("/api/export/audit.csv").status_code == 403
    bad = api.get("/api/export/requests.csv", {"from": "x"})
    assert bad.status_code == 400
    assert list(bad.json()) == ["from"]


def test_the_cpo_exports_the_audit_trail_through_the_api(api, cpo, events):
    response = api.as_user(cpo).get("/api/export/audit.csv", HTTP_ACCEPT="text/csv")
    assert response.status_code == 200
    assert len(read_csv(response)) == 2
