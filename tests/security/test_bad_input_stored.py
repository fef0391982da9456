"""Unusual but valid input (unicode, right-to-left text, long texts, many line items, dates at the
ends of the range, misleading file names) is stored exactly as sent and shown safely (SPEC §9)."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from intake.models import Attachment, PurchaseRequest
from tests.factories import PurchaseRequestFactory, UserFactory
from tests.security.bad_input_support import LIST, NEW, RTL, form_data
from tests.security.conftest import inline_script_in

pytestmark = pytest.mark.django_db


# Stored as sent, shown safely


def test_unicode_and_right_to_left_text_is_stored_exactly_and_shown(client, requester):
    client.force_login(requester)
    response = client.post(
        NEW, form_data(title=RTL, description=RTL * 3, **{"items-0-description": RTL})
    )
    assert response.status_code == 302
    purchase_request = PurchaseRequest.objects.get()
    assert purchase_request.title == RTL
    assert purchase_request.line_items.get().description == RTL
    page = client.get(purchase_request.get_absolute_url()).content.decode()
    assert page.count(RTL) >= 3  # title, description, line item
    listing = client.get("/requests/").content.decode()
    assert RTL in listing


def test_a_long_text_is_stored_whole_and_shown(client, api, requester):
    from core.validation import MAX_TEXT

    description = ("Long but allowed. " * 2_000)[: MAX_TEXT - 1] + "."  # the longest allowed
    response = api.as_user(requester).post(
        LIST, {"title": "Long", "description": description}, format="json"
    )
    assert response.status_code == 201
    purchase_request = PurchaseRequest.objects.get(pk=response.json()["id"])
    assert purchase_request.description == description
    client.force_login(requester)
    page = client.get(purchase_request.get_absolute_url())
    assert page.status_code == 200
    assert description in page.content.decode()


def test_a_hundred_line_items_are_stored_and_shown_with_the_right_total(client, api, requester):
    items = [
        {"description": f"Item {i}", "quantity": "1", "unit_price": "0.10"} for i in range(100)
    ]
    response = api.as_user(requester).post(
        LIST, {"title": "Many items", "line_items": items}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["total_cost"] == "10.00"
    client.force_login(requester)
    page = client.get(f"/requests/{response.json()['id']}/").content.decode()
    assert "10.00 EUR" in page


@pytest.mark.parametrize("needed_by", ["1900-01-01", "2199-12-31"])
def test_dates_at_the_ends_of_the_range_are_stored_and_shown(client, api, requester, needed_by):
    response = api.as_user(requester).post(
        LIST, {"title": "Odd date", "needed_by": needed_by}, format="json"
    )
    assert response.status_code == 201
    purchase_request = PurchaseRequest.objects.get(pk=response.json()["id"])
    assert purchase_request.needed_by == date.fromisoformat(needed_by)
    client.force_login(requester)
    for path in (
        purchase_request.get_absolute_url(),
        "/requests/",
        f"{LIST}{purchase_request.pk}/",
    ):
        assert client.get(path).status_code == 200, path


def test_dates_when_ordering_and_closing_are_bounded_stored_and_shown(client, api, procurement):
    purchase_request = PurchaseRequestFactory(state="approved")
    api.as_user(procurement)
    url = f"{LIST}{purchase_request.pk}"
    for payload in [
        {"po_number": "PO-1", "ordered_on": "0001-01-01"},
        {"po_number": "PO-1", "ordered_on": "9999-12-31"},
    ]:
        response = api.post(f"{url}/mark-ordered/", payload, format="json")
        assert response.status_code == 400
        assert "between 1900" in str(response.json()["ordered_on"])
    response = api.post(f"{url}/mark-ordered/", {"po_number": "PO\r\nBcc: x"}, format="json")
    assert response.status_code == 400
    assert "one line" in str(response.json()["po_number"])
    response = api.post(
        f"{url}/mark-ordered/", {"po_number": "PO-1", "ordered_on": "1900-01-01"}, format="json"
    )
    assert response.status_code == 200
    response = api.post(f"{url}/close/", {"received_on": "9999-12-31"}, format="json")
    assert response.status_code == 400
    assert "between 1900" in str(response.json()["received_on"])
    response = api.post(f"{url}/close/", {"received_on": "2199-12-31"}, format="json")
    assert response.status_code == 200
    client.force_login(procurement)
    page = client.get(purchase_request.get_absolute_url())
    assert page.status_code == 200
    assert "31 Dec 2199" in page.content.decode()  # one format for every date


@pytest.mark.parametrize(
    ("time_zone", "starts_at", "ends_at"),
    [
        pytest.param("America/Los_Angeles", "2030-01-01T09:00", "9999-12-31T23:00", id="9999"),
        pytest.param("Asia/Tokyo", "0001-01-01T00:00", "2030-01-01T09:00", id="year 1"),
    ],
)
def test_an_out_of_office_window_at_the_ends_of_the_calendar_is_refused_or_shown(
    client, requester, time_zone, starts_at, ends_at
):
    """Local times that fall outside the years 1 to 9999 once converted to UTC."""
    requester.time_zone = time_zone
    requester.save()
    colleague = UserFactory(username="colin")
    client.force_login(requester)
    response = client.post(
        "/accounts/out-of-office/",
        {"delegate": colleague.pk, "starts_at": starts_at, "ends_at": ends_at},
    )
    if response.status_code == 302:  # stored: then shown
        assert client.get("/accounts/out-of-office/").status_code == 200
    else:
        page = response.content.decode()
        assert response.status_code == 200
        assert "invalid-feedback" in page or "alert-danger" in page


def test_an_upload_named_to_mislead_is_stored_under_a_safe_name_and_served_as_a_download(
    client, requester, settings
):
    from tests.security.test_permission_matrix import PNG

    draft = PurchaseRequestFactory(requester=requester)
    client.force_login(requester)
    name = "../../../etc/Angebot ‮fdp.exe.png"  # shown right to left: "Angebot gnp.exe.pdf"
    response = client.post(
        f"/requests/{draft.pk}/attachments/",
        {"attachments": SimpleUploadedFile(name, PNG, content_type="image/png")},
    )
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    stored = (settings.MEDIA_ROOT / attachment.file.name).resolve()
    assert stored.is_relative_to(settings.MEDIA_ROOT.resolve())
    assert "/" not in attachment.original_name
    download = client.get(f"/requests/{draft.pk}/attachments/{attachment.pk}/")
    disposition = download["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "\n" not in disposition and "\r" not in disposition
    assert "etc" not in disposition
    page = client.get(draft.get_absolute_url()).content.decode()
    assert inline_script_in(page) == []
