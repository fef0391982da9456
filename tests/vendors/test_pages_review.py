"""The vendor page's requests, performance and joint review (SPEC §5, §6): starting a review, who
decides, conditions, and what a page says when there is none."""

import re
from decimal import Decimal

import pytest

from approvals.models import StepState
from audit.models import AuditEvent
from tests.factories import PurchaseRequestFactory, UserFactory, VendorFactory
from tests.vendors.pages_support import (
    html,
    row,
)
from vendors.models import (
    VendorRating,
    VendorStatus,
)

pytestmark = pytest.mark.django_db


# Requests, performance, timeline


def test_vendor_page_lists_its_requests_and_performance(client, cio, requester, it_reviewer):
    vendor = VendorFactory(name="Acme Analytics")
    closed = PurchaseRequestFactory(
        vendor=vendor, requester=requester, state="closed", title="Dashboards"
    )
    PurchaseRequestFactory(vendor=vendor, requester=requester, state="draft", title="More seats")
    VendorRating.objects.create(
        vendor=vendor, request=closed, rater=requester, delivery=4, quality=3, support=2
    )
    VendorRating.objects.create(
        vendor=vendor, request=closed, rater=it_reviewer, delivery=5, quality=4, support=4
    )
    client.force_login(cio)
    page = html(client.get(f"/vendors/{vendor.pk}/"))
    line = row(page, "data-number", closed.number)
    assert "Dashboards" in line and 'data-state="closed"' in line
    assert 'id="average-delivery">4.5<' in page
    assert 'id="average-quality">3.5<' in page
    assert 'id="average-support">3.0<' in page
    assert "from 2 ratings" in page


# The joint review


def test_start_review_creates_both_steps_and_it_sees_its_decision_buttons(
    client, procurement, it_reviewer
):
    vendor = VendorFactory(name="Acme Analytics", status="prospective")
    client.force_login(procurement)
    assert "Start joint review" in html(client.get(f"/vendors/{vendor.pk}/"))

    response = client.post(f"/vendors/{vendor.pk}/review/", follow=True)

    vendor.refresh_from_db()
    assert vendor.status == VendorStatus.UNDER_REVIEW
    steps = {step.side: step for step in vendor.steps.all()}
    assert set(steps) == {"it", "procurement"}
    assert {step.state for step in steps.values()} == {StepState.OPEN}
    page = html(response)
    assert "The joint review of Acme Analytics has started." in page
    assert "Start joint review" not in page
    assert 'data-status="under_review"' in page

    client.force_login(it_reviewer)
    page = html(client.get(f"/vendors/{vendor.pk}/"))
    it_step = re.search(r'<div [^>]*data-side="it".*?</form>', page, re.S).group()
    assert 'data-step-state="open"' in it_step
    assert f'action="/approvals/steps/{steps["it"].pk}/approve/"' in it_step
    for button in ("Approve", "Reject"):
        assert f">{button}</button>" in it_step
    # The procurement step is not IT's: no buttons, the reason instead.
    assert f"/approvals/steps/{steps['procurement'].pk}/approve/" not in page
    assert "you are not in it" in page
    kinds = [e.kind for e in AuditEvent.objects.for_object(vendor)]
    assert kinds == ["start_review", "routed"]
    assert "Joint review started" in page


def test_review_cannot_start_twice_or_for_an_approved_vendor(client, procurement):
    vendor = VendorFactory(status="approved")
    client.force_login(procurement)
    assert "Start joint review" not in html(client.get(f"/vendors/{vendor.pk}/"))
    response = client.post(f"/vendors/{vendor.pk}/review/", follow=True)
    assert "is approved, so it cannot be put under review." in html(response)
    assert not vendor.steps.exists()


def test_a_vendor_without_review_says_so(client, it_reviewer):
    vendor = VendorFactory(status="prospective")
    client.force_login(it_reviewer)
    page = html(client.get(f"/vendors/{vendor.pk}/"))
    assert "No review yet" in page


def test_a_vendor_under_review_without_steps_offers_start_review(client, procurement, requester):
    """No dead end: "Under review" with "No review yet" has an action, and starting it opens
    the steps and releases nobody's request too early."""
    vendor = VendorFactory(name="Stuck Ltd", status="under_review")
    client.force_login(procurement)
    page = html(client.get(f"/vendors/{vendor.pk}/"))
    assert "No review yet" in page
    assert "Start joint review</button>" in page

    page = html(client.post(f"/vendors/{vendor.pk}/review/", follow=True))
    assert "The joint review of Stuck Ltd has started." in page
    assert vendor.steps.filter(state=StepState.OPEN).count() == 2
    assert "Start joint review</button>" not in page
    assert "Joint review steps added" in page


def test_finance_sees_who_starts_a_review_instead_of_a_button(client):
    finance = UserFactory(username="fiona", roles=["finance"])
    vendor = VendorFactory(status="prospective")
    client.force_login(finance)
    page = html(client.get(f"/vendors/{vendor.pk}/"))
    assert "Start joint review</button>" not in page
    assert "IT and procurement reviewers start the review" in page


def test_conditions_are_shown_for_a_vendor_approved_with_conditions(client, procurement):
    vendor = VendorFactory(status="approved_with_conditions", conditions="EU hosting only")
    client.force_login(procurement)
    page = html(client.get(f"/vendors/{vendor.pk}/"))
    box = re.search(r'id="vendor-conditions".*?</div>\s*</div>', page, re.S).group()
    assert "Approved with these conditions" in box and "EU hosting only" in box


def test_the_score_stands_beside_the_tier(client, procurement):
    vendor = VendorFactory(status="approved", risk_tier="high", risk_score=Decimal("62.5"))
    client.force_login(procurement)
    page = html(client.get(f"/vendors/{vendor.pk}/"))
    header = re.search(r'id="vendor-status">.*?</div>', page, re.S).group()
    assert 'data-tier="high"' in header and "score 62.5 of 100" in header
    listing = row(html(client.get("/vendors/")), "data-vendor", vendor.name)
    assert "score 62.5" in listing
