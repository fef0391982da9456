"""A request waiting on its vendor's review says so in a real browser (issue 29, item 6): the
requester reads it on My requests; a reviewer follows its link from the request page to the
vendor's review. Both pages axe clean."""

import pytest
from playwright.sync_api import expect

from accounts import roles
from accounts.models import User
from approvals import workflow
from tests.e2e.accessibility import axe_violations, describe
from tests.factories import PurchaseRequestFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def figma_request(requester):
    UserFactory(username="ivo", first_name="Ivan", last_name="Ito", roles=[roles.IT_REVIEWERS])
    UserFactory(
        username="pp", first_name="Paul", last_name="Procurement", roles=[roles.PROCUREMENT]
    )
    draft = PurchaseRequestFactory(
        requester=requester, vendor=None, proposed_vendor_name="Figma", proposed_vendor_website=""
    )
    return workflow.submit_request(draft, by=requester)


def test_the_requester_reads_whom_the_vendor_review_waits_on(sign_in, requester, figma_request):
    page = sign_in(requester)
    row = page.locator(f'tr[data-number="{figma_request.number}"]')
    expect(row.locator('td[data-label="Waiting on"]')).to_have_text(
        "Waiting on the vendor review of Figma: Ivan Ito or Paul Procurement decide"
    )
    violations = axe_violations(page)
    assert not violations, describe(violations)


def test_a_reviewer_follows_the_link_to_the_vendor_review(live_server, sign_in, figma_request):
    page = sign_in(User.objects.get(username="pp"))
    page.goto(f"{live_server.url}{figma_request.get_absolute_url()}")
    expect(page.locator("#waiting-on")).to_have_text(
        "Waiting on the vendor review of Figma: Ivan Ito or you decide"
    )
    violations = axe_violations(page)
    assert not violations, describe(violations)
    page.locator("#waiting-on").get_by_role("link", name="Figma").click()
    expect(page.get_by_role("heading", name="Figma", exact=True)).to_be_visible()
    expect(page.locator("#steps")).to_be_visible()
