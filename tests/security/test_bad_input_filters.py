"""Out-of-range dates in filters, forged page positions and ids that are no ids: 400 naming the
parameter, a fresh first page or a clear refusal, never a 500 (SPEC §9)."""

import pytest

from approvals import workflow
from tests.factories import PurchaseRequestFactory, VendorFactory
from tests.security.bad_input_support import LIST, SIGN_IN_PAGE

pytestmark = pytest.mark.django_db


# Out-of-range dates in filters: 400 naming the parameter, never an OverflowError

BAD_DAYS = ["0001-01-01", "1899-12-31", "2200-01-01", "9999-12-31"]
DATE_FILTERED_API = ["/api/metrics/", "/api/export/requests.csv", "/api/export/audit.csv"]
DATE_FILTERED_EXPORTS = ["/insights/export/requests.csv", "/insights/export/audit.csv"]


@pytest.mark.parametrize("day", BAD_DAYS)
@pytest.mark.parametrize("param", ["from", "to"])
@pytest.mark.parametrize("path", DATE_FILTERED_API)
def test_the_api_refuses_out_of_range_filter_dates_naming_the_parameter(api, cio, path, param, day):
    response = api.as_user(cio).get(path, {param: day})
    assert response.status_code == 400
    assert "between 1900-01-01 and 2199-12-31" in str(response.json()[param])


@pytest.mark.parametrize("day", [*BAD_DAYS, "10000-01-01", "2026-02-30"])
@pytest.mark.parametrize("param", ["from", "to"])
@pytest.mark.parametrize("path", DATE_FILTERED_EXPORTS)
def test_the_exports_refuse_out_of_range_filter_dates_naming_the_parameter(
    client, cio, path, param, day
):
    client.force_login(cio)
    response = client.get(path, {param: day})
    assert response.status_code == 400
    assert response.content.decode().startswith(f"{param}: ")


@pytest.mark.parametrize("day", BAD_DAYS)
@pytest.mark.parametrize("param", ["from", "to"])
def test_the_dashboard_shows_an_out_of_range_filter_date_as_a_form_error(client, cio, param, day):
    client.force_login(cio)
    response = client.get("/insights/", {param: day})
    assert response.status_code == 200
    assert "between 1900-01-01 and 2199-12-31" in response.content.decode()


@pytest.mark.parametrize("path", [*DATE_FILTERED_API, *DATE_FILTERED_EXPORTS, "/insights/"])
def test_filter_dates_at_the_ends_of_the_range_are_answered(client, cio, path):
    client.force_login(cio)
    response = client.get(path, {"from": "1900-01-01", "to": "2199-12-31"})
    assert response.status_code == 200


# Forged page positions: a due time the database cannot compare with starts over (pages) or
# is an invalid cursor (API), never an OverflowError

FORGED_MOMENTS = [
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59.999999",
    "2026-13-01T00:00:00",
    "garbage",
]


@pytest.mark.parametrize("moment", FORGED_MOMENTS)
def test_a_forged_page_position_on_waiting_for_me_starts_from_the_first_page(
    client, requester, it_reviewer, moment
):
    purchase_request = workflow.submit_request(
        PurchaseRequestFactory(requester=requester), by=requester
    )
    client.force_login(it_reviewer)
    for param in ("after", "team_after"):
        response = client.get("/approvals/", {param: f"{moment}_1"})
        assert response.status_code == 200
    assert purchase_request.number in response.content.decode()


@pytest.mark.parametrize("moment", FORGED_MOMENTS)
def test_a_forged_awaiting_me_cursor_is_404_invalid_cursor(api, requester, it_reviewer, moment):
    import base64
    from urllib.parse import quote

    workflow.submit_request(PurchaseRequestFactory(requester=requester), by=requester)
    for extra in ("", "&r=1", "&o=99999999999999999999"):
        cursor = base64.b64encode(f"p={quote(moment)}{extra}".encode()).decode()
        response = api.as_user(it_reviewer).get(LIST, {"awaiting": "me", "cursor": cursor})
        assert response.status_code == 404
        assert response.json() == {"detail": "Invalid cursor"}


@pytest.mark.parametrize("params", [{"title": "a\x00b"}, {"title": "x" * 5000}])
def test_the_duplicate_check_leaves_out_a_title_that_is_not_valid(client, requester, params):
    client.force_login(requester)
    response = client.get("/requests/duplicates/", params)
    assert response.status_code == 200


@pytest.mark.parametrize(
    "params",
    [
        {"vendor": "²"},
        {"exclude": "²"},
        {"vendor": str(2**70), "exclude": str(2**70)},
        {"vendor": "-1", "exclude": "abc"},
    ],
)
def test_the_duplicate_check_refuses_ids_that_are_no_ids(client, requester, params):
    """A 400 (tests/security/test_bad_input_integer_params.py), never a 500."""
    client.force_login(requester)
    response = client.get("/requests/duplicates/", params)
    assert response.status_code == 400


@pytest.mark.parametrize("requests", [["²"], [str(2**70)], ["-1"], ["x"]])
def test_the_contract_form_refuses_ids_that_are_no_ids(client, procurement, requests):
    vendor = VendorFactory()
    client.force_login(procurement)
    response = client.post(
        f"/vendors/{vendor.pk}/contracts/",
        {
            "title": "Licence",
            "starts_on": "2026-01-01",
            "ends_on": "2027-01-01",
            "notice_days": "30",
            "annual_value": "100",
            "currency": "EUR",
            "owner": procurement.pk,
            "requests": requests,
        },
    )
    assert response.status_code == 200
    assert "is not a valid value" in response.content.decode()
    assert not vendor.contracts.exists()


@pytest.mark.parametrize("value", ["²", str(2**70), "-1", "0", "abc"])
def test_marking_a_notification_read_with_an_id_that_is_no_id_marks_all(client, requester, value):
    from notifications.models import Channel, Notification

    Notification.objects.create(
        recipient=requester, channel=Channel.IN_APP, subject="S", body="B", url="/"
    )
    client.force_login(requester)
    response = client.post("/notifications/read/", {"id": value, "follow": "1"})
    assert response.status_code == 302
    assert not Notification.objects.filter(read_at__isnull=True).exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("username", "u" * 300), ("username", "u" * 151), ("password", "p" * 5000)],
)
def test_the_token_endpoint_refuses_overlong_credentials_without_signing_in(field, value):
    """django-axes records a failed sign-in's username in 255 characters: a longer one is
    refused before any sign-in is tried."""
    from rest_framework.test import APIClient

    credentials = {"username": "rita", "password": "secret", field: value}
    for body in ({"format": "json"}, {"format": "multipart"}):
        response = APIClient().post("/api/auth/token/", credentials, **body)
        assert response.status_code == 400
        assert field in response.json()


def test_the_sign_in_page_refuses_an_overlong_username(client):
    response = client.post(SIGN_IN_PAGE, {"username": "u" * 300, "password": "secret"})
    assert response.status_code == 200  # the sign-in page again, not a 500 on PostgreSQL
    assert "_auth_user_id" not in client.session
