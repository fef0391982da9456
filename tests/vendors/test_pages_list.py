"""The vendor pages (SPEC §5, §6): who sees them, and the list with its figures, filters, paging
and a fixed number of queries."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import PurchaseRequestFactory, UserFactory, VendorFactory
from tests.vendors.pages_support import (
    html,
    row,
    today,
)
from vendors.models import (
    Certificate,
    Contract,
    VendorRating,
)

pytestmark = pytest.mark.django_db


# Who may see the pages


def test_vendor_pages_are_forbidden_to_a_requester(client, requester):
    vendor = VendorFactory()
    certificate = Certificate.objects.create(
        vendor=vendor,
        kind="iso27001",
        issuer="BSI",
        issued_on=today() - timedelta(days=10),
        expires_on=today() + timedelta(days=300),
        uploaded_by=UserFactory(),
    )
    client.force_login(requester)
    for url in (
        "/vendors/",
        "/vendors/new/",
        f"/vendors/{vendor.pk}/",
        f"/vendors/{vendor.pk}/edit/",
        f"/vendors/{vendor.pk}/certificates/{certificate.pk}/document/",
    ):
        response = client.get(url)
        assert response.status_code == 403, url
    assert client.post(f"/vendors/{vendor.pk}/review/").status_code == 403


def test_finance_sees_vendors_but_does_not_change_them(client):
    finance = UserFactory(username="fiona", roles=["finance"])
    vendor = VendorFactory(name="Contoso", status="prospective")
    client.force_login(finance)
    assert "Contoso" in html(client.get("/vendors/"))
    page = html(client.get(f"/vendors/{vendor.pk}/"))
    assert "Start joint review" not in page
    assert 'id="questionnaire"' not in page
    assert "Add a certificate" not in page
    assert client.get("/vendors/new/").status_code == 403
    assert client.post(f"/vendors/{vendor.pk}/contracts/", {}).status_code == 403


# The list


def test_list_shows_each_vendors_figures(client, it_reviewer, requester):
    vendor = VendorFactory(name="Acme Analytics", status="under_review", risk_tier="high")
    Certificate.objects.create(
        vendor=vendor,
        kind="soc2_type2",
        issuer="Example Audit LLP",
        issued_on=today() - timedelta(days=300),
        expires_on=today() + timedelta(days=10),
        uploaded_by=it_reviewer,
    )
    Contract.objects.create(
        vendor=vendor,
        title="Current",
        starts_on=today() - timedelta(days=1),
        ends_on=today() + timedelta(days=100),
        annual_value=Decimal("100.00"),
        owner=it_reviewer,
    )
    purchase_request = PurchaseRequestFactory(vendor=vendor, requester=requester, state="closed")
    for rater, scores in ((requester, (4, 5, 3)), (it_reviewer, (5, 5, 4))):
        VendorRating.objects.create(
            vendor=vendor,
            request=purchase_request,
            rater=rater,
            delivery=scores[0],
            quality=scores[1],
            support=scores[2],
        )
    VendorFactory(name="Quiet Vendor")
    client.force_login(it_reviewer)

    page = html(client.get("/vendors/"))

    acme = row(page, "data-vendor", "Acme Analytics")
    assert 'data-status="under_review"' in acme and "Under review" in acme
    assert 'data-tier="high"' in acme
    assert re.search(r'class="text-end">1</td>', acme)  # one active contract
    assert "Certificate expiring" in acme
    assert "4.3" in acme and "(2 ratings)" in acme  # (4.5 + 5 + 3.5) / 3
    quiet = row(page, "data-vendor", "Quiet Vendor")
    assert "Certificate expiring" not in quiet
    assert "No ratings" in quiet and "Not assessed" in quiet


def test_list_filters_by_status_tier_name_and_expiring_certificates(client, procurement):
    acme = VendorFactory(name="Acme Analytics", status="approved", risk_tier="low")
    VendorFactory(name="Beta Hosting", status="prospective", risk_tier="high")
    VendorFactory(name="Gamma Analytics", status="rejected", risk_tier="critical")
    Certificate.objects.create(
        vendor=acme,
        kind="iso27001",
        issuer="BSI",
        issued_on=today() - timedelta(days=300),
        expires_on=today() + timedelta(days=29),
        uploaded_by=procurement,
    )
    client.force_login(procurement)

    def names(query: str) -> list[str]:
        return re.findall(r'<tr data-vendor="([^"]+)"', html(client.get(f"/vendors/?{query}")))

    assert names("") == ["Acme Analytics", "Beta Hosting", "Gamma Analytics"]
    assert names("status=prospective&status=rejected") == ["Beta Hosting", "Gamma Analytics"]
    assert names("risk_tier=high&risk_tier=critical") == ["Beta Hosting", "Gamma Analytics"]
    assert names("name=analytics") == ["Acme Analytics", "Gamma Analytics"]
    assert names("certificates_expiring=true") == ["Acme Analytics"]
    assert names("certificates_expiring=false") == ["Beta Hosting", "Gamma Analytics"]
    assert names("name=analytics&status=approved") == ["Acme Analytics"]
    page = html(client.get("/vendors/?name=nothing-like-it"))
    assert "No vendors match these filters." in page
    # The chosen filters stay checked.
    page = html(client.get("/vendors/?status=rejected"))
    assert re.search(r'<input[^>]*value="rejected"[^>]*checked', page)


def test_list_pages_by_25_and_keeps_the_filters_in_the_page_links(client, it_reviewer):
    for n in range(30):
        VendorFactory(name=f"Vendor {n:02d}", status="approved")
    client.force_login(it_reviewer)
    page = html(client.get("/vendors/?status=approved"))
    assert len(re.findall(r"<tr data-vendor=", page)) == 25
    assert "Page 1 of 2" in page
    assert 'href="?status=approved&amp;page=2"' in page
    second = html(client.get("/vendors/?status=approved&page=2"))
    assert len(re.findall(r"<tr data-vendor=", second)) == 5


def vendors_with_everything(count: int, owner) -> None:
    """`count` vendors, each with an expiring certificate, an active contract and a rating."""
    for _ in range(count):
        vendor = VendorFactory()
        Certificate.objects.create(
            vendor=vendor,
            kind="soc2_type2",
            issuer="Auditor",
            issued_on=today() - timedelta(days=300),
            expires_on=today() + timedelta(days=5),
            uploaded_by=owner,
        )
        Contract.objects.create(
            vendor=vendor,
            title="Contract",
            starts_on=today() - timedelta(days=5),
            ends_on=today() + timedelta(days=50),
            annual_value=Decimal("10.00"),
            owner=owner,
        )
        purchase_request = PurchaseRequestFactory(vendor=vendor, requester=owner, state="closed")
        VendorRating.objects.create(
            vendor=vendor, request=purchase_request, rater=owner, delivery=3, quality=4, support=5
        )


def test_list_runs_the_same_number_of_queries_for_5_and_50_vendors(
    client, it_reviewer, django_assert_max_num_queries
):
    client.force_login(it_reviewer)
    vendors_with_everything(5, it_reviewer)
    client.get("/vendors/")  # warm caches that are not per request (content types)
    with CaptureQueriesContext(connection) as five:
        response = client.get("/vendors/")
    assert len(re.findall(r"<tr data-vendor=", html(response))) == 5

    vendors_with_everything(45, it_reviewer)
    with django_assert_max_num_queries(len(five)):
        response = client.get("/vendors/")
    assert len(re.findall(r"<tr data-vendor=", html(response))) == 25
    assert html(response).count("Certificate expiring") == 25
