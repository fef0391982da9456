from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from intake.models import State
from intake.selectors import possible_duplicates
from tests.factories import PurchaseRequestFactory, UserFactory, VendorFactory
from vendors.models import Contract

pytestmark = pytest.mark.django_db


def numbers(found):
    return {r.number for r in found["requests"]}


def test_same_vendor_and_similar_title_are_found(requester):
    miro = VendorFactory(name="Miro")
    same_vendor = PurchaseRequestFactory(vendor=miro, title="Whiteboards", state=State.IN_REVIEW)
    similar = PurchaseRequestFactory(title="Figma licences for design", state=State.APPROVED)
    PurchaseRequestFactory(title="Laptops", state=State.IN_REVIEW)  # unrelated
    PurchaseRequestFactory(vendor=miro, title="Draft idea", state=State.DRAFT)  # drafts are private
    found = possible_duplicates(title="Figma licences for marketing", vendor_id=miro.pk)
    assert numbers(found) == {same_vendor.number, similar.number}


def test_old_closed_requests_are_not_duplicates_but_recent_ones_are(requester):
    with time_machine.travel(timezone.now() - timedelta(days=400)):
        PurchaseRequestFactory(title="Figma seats", state=State.CLOSED)
    recent = PurchaseRequestFactory(title="Figma seats", state=State.CLOSED)
    assert numbers(possible_duplicates(title="Figma seats")) == {recent.number}


def test_active_contracts_with_the_vendor(procurement):
    vendor = VendorFactory()
    today = timezone.localdate()
    active = Contract.objects.create(
        vendor=vendor, title="Enterprise plan", starts_on=today - timedelta(days=10),
        ends_on=today + timedelta(days=300), annual_value=Decimal("9000"), owner=procurement,
    )  # fmt: skip
    Contract.objects.create(
        vendor=vendor, title="Old plan", starts_on=date(2020, 1, 1), ends_on=date(2021, 1, 1),
        annual_value=Decimal("1"), owner=procurement,
    )  # fmt: skip
    assert possible_duplicates(title="", vendor_id=vendor.pk)["contracts"] == [active]


def test_request_page_shows_duplicates_without_opening_others_requests(client, requester):
    vendor = VendorFactory(name="Miro")
    theirs = PurchaseRequestFactory(
        requester=UserFactory(username="someone"), vendor=vendor, title="Miro for sales",
        state=State.IN_REVIEW,
    )  # fmt: skip
    mine = PurchaseRequestFactory(requester=requester, vendor=vendor, title="Miro for marketing")
    client.force_login(requester)
    page = client.get(f"/requests/{mine.pk}/").content.decode()
    assert f'data-duplicate="{theirs.number}"' in page
    assert f'href="/requests/{theirs.pk}/"' not in page


def test_form_duplicate_check_endpoint(client, requester):
    vendor = VendorFactory()
    other = PurchaseRequestFactory(vendor=vendor, state=State.IN_REVIEW)
    client.force_login(requester)
    response = client.get("/requests/duplicates/", {"title": "x", "vendor": vendor.pk})
    assert other.number in response.content.decode()
    # A vendor that is not an id is named as the problem (core.query), never a 5xx.
    refused = client.get("/requests/duplicates/", {"title": "", "vendor": "abc"})
    assert refused.status_code == 400 and "vendor" in refused.content.decode()


def test_rating_from_the_request_page(client, requester):
    closed = PurchaseRequestFactory(requester=requester, state=State.CLOSED)
    client.force_login(requester)
    assert "Save rating" in client.get(f"/requests/{closed.pk}/").content.decode()
    response = client.post(
        f"/requests/{closed.pk}/rate/", {"delivery": 9, "quality": 3, "support": 3}, follow=True
    )
    assert "Delivery: Ensure this value is less than or equal to 5." in response.content.decode()
    client.post(f"/requests/{closed.pk}/rate/", {"delivery": 5, "quality": 4, "support": 3})
    assert closed.vendor.ratings.get().delivery == 5
