"""One-line fields of vendors, contracts, certificates and rules refuse control characters and out-
of-range values; no user text makes a notification undeliverable (SPEC §9)."""

import pytest
from django.core import mail

from approvals import workflow
from intake.models import PurchaseRequest
from tests.factories import PurchaseRequestFactory, VendorFactory
from tests.security.bad_input_support import LIST

pytestmark = pytest.mark.django_db


# One-line fields of vendors, contracts, certificates and rules

LINE_BREAKERS = ["\r\n", "\n", "\r", "\t", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\u2028"]


@pytest.mark.parametrize("char", LINE_BREAKERS, ids=repr)
@pytest.mark.parametrize("field", ["name", "legal_name", "contact_name", "esg_rating"])
def test_the_api_refuses_control_characters_in_a_vendors_one_line_fields(
    api, procurement, field, char
):
    from vendors.models import Vendor

    payload = {"name": "Acme", field: f"Acme{char}Bcc: x@example.com"}
    response = api.as_user(procurement).post("/api/vendors/", payload, format="json")
    assert response.status_code == 400
    assert "one line" in str(response.json()[field])
    assert not Vendor.objects.exists()


@pytest.mark.parametrize("char", LINE_BREAKERS, ids=repr)
def test_the_api_refuses_control_characters_in_contract_titles_and_certificate_issuers(
    api, procurement, char
):
    vendor = VendorFactory()
    api.as_user(procurement)
    response = api.post(
        f"/api/vendors/{vendor.pk}/contracts/",
        {
            "title": f"Licence{char}renewal",
            "starts_on": "2026-01-01",
            "ends_on": "2027-01-01",
            "annual_value": "100",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "one line" in str(response.json()["title"])
    response = api.post(
        f"/api/vendors/{vendor.pk}/certificates/",
        {
            "kind": "iso27001",
            "issuer": f"Auditors{char}Ltd",
            "issued_on": "2026-01-01",
            "expires_on": "2027-01-01",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "one line" in str(response.json()["issuer"])
    assert not vendor.contracts.exists() and not vendor.certificates.exists()


def test_the_vendor_form_refuses_a_name_with_a_line_break(client, procurement):
    client.force_login(procurement)
    response = client.post(
        "/vendors/new/", {"name": "Acme\r\nBcc: x@example.com", "website": "", "country": ""}
    )
    assert response.status_code == 200
    assert "Keep this to one line" in response.content.decode()


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"title": "c", "starts_on": "0001-01-01", "ends_on": "0001-01-02"}, "starts_on", "1900"),
        ({"title": "c", "starts_on": "2026-01-01", "ends_on": "9999-12-31"}, "ends_on", "2199"),
        ({"title": "c", "notice_days": 32767}, "notice_days", "3650"),
        ({"title": "c", "annual_value": "1e15"}, "annual_value", "digits"),
        ({"title": "c", "currency": "XYZ"}, "currency", "ISO 4217"),
        ({"title": "c", "currency": "eur"}, "currency", "ISO 4217"),
        ({"title": "c", "currency": "BGN"}, "currency", "ISO 4217"),
    ],
)
def test_the_api_refuses_contracts_out_of_bounds_naming_the_field(
    api, procurement, payload, field, message
):
    vendor = VendorFactory()
    contract = {"starts_on": "2026-01-01", "ends_on": "2027-01-01", "annual_value": "100"}
    response = api.as_user(procurement).post(
        f"/api/vendors/{vendor.pk}/contracts/", {**contract, **payload}, format="json"
    )
    assert response.status_code == 400, response.content[:300]
    assert message in str(response.json()[field])
    assert not vendor.contracts.exists()


@pytest.mark.parametrize("currency", ["JPY", "USD", "CHF", "INR", "XOF"])
def test_iso_4217_currencies_in_use_are_accepted_for_contracts_and_requests(
    api, procurement, requester, currency
):
    vendor = VendorFactory()
    response = api.as_user(procurement).post(
        f"/api/vendors/{vendor.pk}/contracts/",
        {
            "title": "Licence",
            "starts_on": "2026-01-01",
            "ends_on": "2027-01-01",
            "annual_value": "100",
            "currency": currency,
        },
        format="json",
    )
    assert response.status_code == 201, response.content[:300]
    response = api.as_user(requester).post(
        LIST, {"title": "t", "currency": currency}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["currency"] == currency


def test_the_certificate_dates_are_bounded(api, procurement):
    vendor = VendorFactory()
    response = api.as_user(procurement).post(
        f"/api/vendors/{vendor.pk}/certificates/",
        {"kind": "iso27001", "issuer": "A", "issued_on": "0001-01-01", "expires_on": "0001-01-02"},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"issued_on", "expires_on"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "Rule\r\nname"}, "name"),
        ({"sla_hours": 2**31 - 1}, "sla_hours"),
        ({"repeat_every_hours": 10**6}, "repeat_every_hours"),
        ({"escalate_after_hours": 2**40}, "escalate_after_hours"),
        ({"stage": 32767}, "stage"),
    ],
)
def test_the_api_refuses_rules_out_of_bounds(api, admin_user, change, field):
    payload = {"name": "Bounded", "side": "it", "reviewer_group": "cio", **change}
    response = api.as_user(admin_user).post("/api/rules/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()


# No user text makes a notification undeliverable


@pytest.mark.usefixtures("group_items_at_once")  # each e-mail at once, not in a digest
def test_a_title_with_a_line_break_stored_before_still_reaches_the_reviewers(
    requester, it_reviewer, procurement, django_capture_on_commit_callbacks
):
    from notifications.models import Channel, Notification, Status

    purchase_request = PurchaseRequestFactory(requester=requester)
    # Stored before titles were one line (the database does not stop it).
    PurchaseRequest.objects.filter(pk=purchase_request.pk).update(
        title="Laptops\r\nBcc: evil@example.com\x0b\u2028"
    )
    purchase_request.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        workflow.submit_request(purchase_request, by=requester)
    emails = Notification.objects.filter(channel=Channel.EMAIL)
    assert emails.exists()
    assert set(emails.values_list("status", flat=True)) == {Status.SENT}
    assert mail.outbox
    for message in mail.outbox:
        assert "\n" not in message.subject and "\r" not in message.subject
        assert "Laptops Bcc: evil@example.com" in message.subject
        assert message.to in ([it_reviewer.email], [procurement.email])


def test_an_outbox_row_with_a_broken_subject_is_delivered(requester):
    from notifications import services as notification_services
    from notifications.models import Channel, Notification, Status

    row = Notification.objects.create(
        recipient=requester,
        channel=Channel.EMAIL,
        subject="Contract\r\nrenews\x0bsoon",
        body="Text",
        url="/",
    )
    assert notification_services.deliver(row.pk) is True
    row.refresh_from_db()
    assert row.status == Status.SENT
    assert mail.outbox[-1].subject == "Contract renews soon"


def test_a_comment_on_several_lines_is_kept_and_the_e_mails_still_go(
    api, requester, it_reviewer, procurement, django_capture_on_commit_callbacks
):
    """Comments are text on several lines; in a subject they are one line."""
    purchase_request = workflow.submit_request(
        PurchaseRequestFactory(requester=requester), by=requester
    )
    step = purchase_request.steps.get(side="procurement")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = api.as_user(procurement).post(
            f"/api/steps/{step.pk}/request-changes/",
            {"comment": "Line one\r\nSubject: injected\n\nLine three"},
            format="json",
        )
    assert response.status_code == 200
    assert mail.outbox, "the requester was told"
    assert "Subject: injected" in mail.outbox[-1].body
    assert "\n" not in mail.outbox[-1].subject
