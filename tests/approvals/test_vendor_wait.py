"""A request waiting on its vendor's joint review says so, names who decides it and links to it
(issue 29, item 6): approvals.selectors.vendor_waits, My requests and the request page."""

import pytest
from django.urls import reverse

from accounts import roles
from approvals import workflow
from approvals.selectors import vendor_waits
from approvals.services import decide_step
from tests.factories import PurchaseRequestFactory, UserFactory, VendorFactory

pytestmark = pytest.mark.django_db


def file_for_figma(requester):
    draft = PurchaseRequestFactory(
        requester=requester, vendor=None, proposed_vendor_name="Figma", proposed_vendor_website=""
    )
    return workflow.submit_request(draft, by=requester)


@pytest.fixture
def people(requester):
    return {
        "paul": UserFactory(
            username="paul", first_name="Paul", last_name="Procurement", roles=[roles.PROCUREMENT]
        ),
        "ivan": UserFactory(
            username="ivan", first_name="Ivan", last_name="Ito", roles=[roles.IT_REVIEWERS]
        ),
    }


def test_a_request_behind_its_vendor_review_names_who_decides_it(requester, people):
    purchase_request = file_for_figma(requester)
    wait = vendor_waits([purchase_request], requester)[purchase_request.pk]
    assert str(wait) == "Waiting on the vendor review of Figma: Ivan Ito or Paul Procurement decide"
    assert wait.vendor == purchase_request.vendor
    assert not wait.linked  # a requester may not open vendor records


def test_the_reader_who_holds_the_review_is_you(requester, people):
    purchase_request = file_for_figma(requester)
    wait = vendor_waits([purchase_request], people["ivan"])[purchase_request.pk]
    assert str(wait) == "Waiting on the vendor review of Figma: you or Paul Procurement decide"
    assert wait.linked


def test_once_one_side_approved_only_the_other_is_named(requester, people):
    purchase_request = file_for_figma(requester)
    vendor = purchase_request.vendor
    decide_step(vendor.steps.get(side="it"), by=people["ivan"], decision="approve")
    wait = vendor_waits([purchase_request], requester)[purchase_request.pk]
    assert str(wait) == "Waiting on the vendor review of Figma: Paul Procurement decides"


def test_requests_not_behind_a_vendor_review_have_no_wait(requester, people):
    approved_vendor = PurchaseRequestFactory(
        requester=requester, vendor=VendorFactory(status="approved")
    )
    in_review = workflow.submit_request(approved_vendor, by=requester)
    draft = PurchaseRequestFactory(requester=requester, vendor=None, proposed_vendor_name="Miro")
    assert vendor_waits([in_review, draft], requester) == {}
    # Released by the vendor's approval, the request waits on its own steps again.
    purchase_request = file_for_figma(requester)
    for step in purchase_request.vendor.steps.order_by("side"):
        decide_step(step, by=people["ivan" if step.side == "it" else "paul"], decision="approve")
    assert vendor_waits([purchase_request], requester) == {}


def test_a_page_of_requests_reads_its_waits_in_a_few_queries(
    requester, people, django_assert_max_num_queries
):
    requests = [file_for_figma(requester) for _ in range(5)]
    with django_assert_max_num_queries(5):
        waits = vendor_waits(requests, requester)
    assert len(waits) == 5


def test_my_requests_and_the_request_page_say_it(client, requester, people):
    purchase_request = file_for_figma(requester)
    client.force_login(requester)
    sentence = "Waiting on the vendor review of Figma: Ivan Ito or Paul Procurement decide"
    listed = client.get(reverse("intake:my-requests")).content.decode()
    assert sentence in listed
    assert 'data-vendor-wait="' in listed
    page = client.get(purchase_request.get_absolute_url()).content.decode()
    assert "Waiting on the vendor review of Figma" in page
    # The requester may not open vendor records: the name is not a link for them.
    assert reverse("vendors:vendor-detail", args=[purchase_request.vendor_id]) not in page


def test_a_reviewer_gets_the_link_to_the_review(client, requester, people):
    purchase_request = file_for_figma(requester)
    client.force_login(people["paul"])
    page = client.get(purchase_request.get_absolute_url()).content.decode()
    link = reverse("vendors:vendor-detail", args=[purchase_request.vendor_id]) + "#steps"
    assert f'<a href="{link}">Figma</a>: Ivan Ito or you decide' in page


def test_the_request_page_says_waiting_on_you_to_its_holder(client, submitted, people):
    purchase_request = submitted(title="Miro")
    client.force_login(people["ivan"])
    page = client.get(purchase_request.get_absolute_url()).content.decode()
    assert "Waiting on: You (IT review); " in page
