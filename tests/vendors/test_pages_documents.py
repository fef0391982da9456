"""A vendor's certificates and contracts on its page (SPEC §5, §6): added, flagged when expiring,
errors on their fields, documents only for vendor viewers."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core import formats
from tests.factories import PurchaseRequestFactory, VendorFactory
from tests.intake.test_uploads import PDF, PNG
from tests.vendors.pages_support import (
    certificate_data,
    contract_data,
    field_error,
    html,
    row,
    today,
)

pytestmark = pytest.mark.django_db


# Certificates


def test_a_certificate_is_added_and_flagged_as_expiring(client, it_reviewer):
    vendor = VendorFactory(name="Acme Analytics")
    client.force_login(it_reviewer)
    response = client.post(f"/vendors/{vendor.pk}/certificates/", certificate_data(), follow=True)

    certificate = vendor.certificates.get()
    assert certificate.document_name == "soc2.pdf"
    assert certificate.document_type == "application/pdf"
    page = html(response)
    assert "SOC 2 Type II certificate added." in page
    line = row(page, "data-certificate", str(certificate.pk))
    assert "SOC 2 Type II" in line and "Example Audit LLP" in line
    assert 'data-flag="expiring"' in line
    assert "Certificate added: SOC 2 Type II" in page
    assert "Certificate expiring" in row(
        html(client.get("/vendors/")), "data-vendor", "Acme Analytics"
    )


def test_an_expired_certificate_is_flagged_as_expired(client, it_reviewer):
    vendor = VendorFactory()
    client.force_login(it_reviewer)
    data = certificate_data(
        kind="iso27001",
        issued_on=(today() - timedelta(days=400)).isoformat(),
        expires_on=(today() - timedelta(days=1)).isoformat(),
        document="",
    )
    client.post(f"/vendors/{vendor.pk}/certificates/", data)
    certificate = vendor.certificates.get()
    line = row(html(client.get(f"/vendors/{vendor.pk}/")), "data-certificate", str(certificate.pk))
    assert 'data-flag="expired"' in line and 'data-flag="expiring"' not in line
    assert not certificate.document


def test_certificate_errors_show_on_their_fields(client, it_reviewer):
    vendor = VendorFactory()
    client.force_login(it_reviewer)
    data = certificate_data(
        issued_on=today().isoformat(),
        expires_on=(today() - timedelta(days=1)).isoformat(),
    )
    response = client.post(f"/vendors/{vendor.pk}/certificates/", data)
    assert response.status_code == 200
    page = html(response)
    assert field_error(page, "expires_on") == "The expiry date must be after the issue date."
    assert "<details open" in page  # the form stays open with its errors

    disguised = SimpleUploadedFile("soc2.pdf", PNG, content_type="application/pdf")
    response = client.post(
        f"/vendors/{vendor.pk}/certificates/", certificate_data(document=disguised)
    )
    assert "is not what its name claims" in field_error(html(response), "document")

    response = client.post(f"/vendors/{vendor.pk}/certificates/", certificate_data(issuer=""))
    assert field_error(html(response), "issuer") == "This field is required."
    assert not vendor.certificates.exists()


def test_certificate_document_is_downloaded_only_by_vendor_viewers(
    client, it_reviewer, procurement, requester
):
    vendor = VendorFactory()
    client.force_login(it_reviewer)
    client.post(f"/vendors/{vendor.pk}/certificates/", certificate_data())
    certificate = vendor.certificates.get()
    url = f"/vendors/{vendor.pk}/certificates/{certificate.pk}/document/"
    assert url in html(client.get(f"/vendors/{vendor.pk}/"))

    client.force_login(procurement)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert 'filename="soc2.pdf"' in response["Content-Disposition"]
    other = VendorFactory()
    assert client.get(
        f"/vendors/{other.pk}/certificates/{certificate.pk}/document/"
    ).status_code == (404)

    client.force_login(requester)
    assert client.get(url).status_code == 403


# Contracts


def test_a_contract_is_added_with_the_requests_it_came_from(client, procurement, requester):
    vendor = VendorFactory(name="Acme Analytics")
    purchase_request = PurchaseRequestFactory(vendor=vendor, requester=requester, state="approved")
    client.force_login(procurement)
    data = contract_data(procurement, requests=[purchase_request.pk])
    response = client.post(f"/vendors/{vendor.pk}/contracts/", data, follow=True)

    contract = vendor.contracts.get()
    assert list(contract.requests.all()) == [purchase_request]
    assert contract.auto_renew and contract.notice_days == 60
    page = html(response)
    assert "Contract “Analytics platform 2025” added." in page
    line = row(page, "data-contract", str(contract.pk))
    for text in (
        "Analytics platform 2025",
        "active",
        formats.day(contract.starts_on),
        formats.day(contract.ends_on),
        "Yes",
        "60 days",
        "24,000.00 EUR",
        str(procurement),
        purchase_request.number,
    ):
        assert text in line, text
    assert "1</td>" in row(html(client.get("/vendors/")), "data-vendor", "Acme Analytics")


def test_contract_errors_show_on_their_fields(client, procurement):
    vendor = VendorFactory()
    client.force_login(procurement)
    data = contract_data(
        procurement, starts_on=today().isoformat(), ends_on=today().isoformat(), annual_value="-1"
    )
    response = client.post(f"/vendors/{vendor.pk}/contracts/", data)
    assert response.status_code == 200
    page = html(response)
    assert field_error(page, "ends_on") == "The contract must end after it starts."
    assert "greater than or equal to 0" in field_error(page, "annual_value")
    assert not vendor.contracts.exists()
