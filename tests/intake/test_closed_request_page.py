"""The end of a request's story on its page (issue 29, item 8): who closed it and when, the
ratings its vendor got instead of an empty form, and no duplicate warning once it is over."""

from datetime import date, datetime

import pytest
import time_machine
from django.utils import timezone

from approvals import workflow
from approvals.services import decide_step
from intake.models import State
from tests.factories import PurchaseRequestFactory, UserFactory, VendorFactory
from vendors.services import rate_vendor

pytestmark = pytest.mark.django_db

CLOSED_AT = timezone.make_aware(datetime(2026, 12, 3, 10, 0))


@pytest.fixture
def rita(db):
    return UserFactory(username="rita", first_name="Rita", last_name="Requester")


def closed_request(requester, it_reviewer, procurement, **fields):
    """A request taken through the real workflow to closed, on 3 Dec 2026."""
    purchase_request = workflow.submit_request(
        PurchaseRequestFactory(requester=requester, **fields), by=requester
    )
    for person, side in ((it_reviewer, "it"), (procurement, "procurement")):
        decide_step(purchase_request.steps.get(side=side), by=person, decision="approve")
    workflow.mark_ordered(
        purchase_request, by=procurement, po_number="PO-1", ordered_on=date(2026, 12, 1)
    )
    with time_machine.travel(CLOSED_AT, tick=False):
        return workflow.close_request(purchase_request, by=requester, received_on=date(2026, 12, 2))


def page_of(client, user, purchase_request) -> str:
    client.force_login(user)
    return client.get(purchase_request.get_absolute_url()).content.decode()


def test_closed_request_says_when_and_by_whom(client, rita, it_reviewer, procurement):
    closed = closed_request(rita, it_reviewer, procurement)
    page = page_of(client, procurement, closed)
    assert "Closed on 3 Dec 2026 by Rita Requester" in page
    assert "Waiting on:" not in page


def test_open_request_says_what_it_waits_on_not_closed(client, rita):
    in_review = PurchaseRequestFactory(requester=rita, state=State.IN_REVIEW)
    page = page_of(client, rita, in_review)
    assert "Waiting on:" in page and "Closed on" not in page


def test_closed_request_shows_the_rating_it_got_not_an_empty_form(
    client, rita, it_reviewer, procurement
):
    closed = closed_request(rita, it_reviewer, procurement)
    rate_vendor(closed, by=rita, delivery=5, quality=4, support=3, comment="Fast delivery")
    page = page_of(client, rita, closed)
    assert "Rated 4 of 5</strong>: “Fast delivery”" in page
    assert "By Rita Requester on " in page and "delivery 5, quality 4, support 3" in page
    assert "Save rating" not in page  # she has rated: no second, empty form


def test_it_may_still_rate_beside_the_requesters_rating(client, rita, it_reviewer, procurement):
    closed = closed_request(rita, it_reviewer, procurement)
    rate_vendor(closed, by=rita, delivery=4, quality=4, support=5)
    page = page_of(client, it_reviewer, closed)
    assert "Rated 4.3 of 5" in page
    assert "Your rating" in page and "Save rating" in page


def test_closed_request_shows_no_duplicate_warning(client, rita, it_reviewer, procurement):
    vendor = VendorFactory(name="Miro")
    other = PurchaseRequestFactory(vendor=vendor, title="Miro for sales", state=State.IN_REVIEW)
    closed = closed_request(rita, it_reviewer, procurement, vendor=vendor, title="Miro boards")
    assert f'data-duplicate="{other.number}"' not in page_of(client, rita, closed)
    # The same pair while the request is in progress: the warning is there.
    in_progress = PurchaseRequestFactory(requester=rita, vendor=vendor, title="Miro more")
    assert f'data-duplicate="{other.number}"' in page_of(client, rita, in_progress)
