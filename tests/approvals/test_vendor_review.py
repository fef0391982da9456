"""Joint vendor review on the shared step machinery, and requests that wait for it (SPEC §5)."""

import pytest
from django.core.exceptions import PermissionDenied

from approvals import workflow
from approvals.models import StepState
from approvals.services import decide_step
from audit.models import AuditEvent
from core.errors import TransitionNotAllowed
from intake.models import State
from tests.factories import PurchaseRequestFactory, UserFactory, VendorFactory
from vendors.models import Vendor, VendorStatus

pytestmark = pytest.mark.django_db


def file_with_proposed_vendor(requester, name="Acme Analytics"):
    draft = PurchaseRequestFactory(
        requester=requester,
        vendor=None,
        proposed_vendor_name=name,
        proposed_vendor_website="https://acme.example",
    )
    return workflow.submit_request(draft, by=requester)


def test_a_proposed_vendor_becomes_a_prospective_record_under_joint_review(requester):
    purchase_request = file_with_proposed_vendor(requester)
    vendor = Vendor.objects.get(name="Acme Analytics")
    assert purchase_request.vendor == vendor
    assert vendor.status == VendorStatus.UNDER_REVIEW
    assert vendor.website == "https://acme.example"
    assert {(s.side, s.state) for s in vendor.steps.all()} == {
        ("it", StepState.OPEN),
        ("procurement", StepState.OPEN),
    }
    # The request's own steps wait for the vendor.
    assert set(purchase_request.steps.values_list("state", flat=True)) == {StepState.WAITING}
    kinds = list(AuditEvent.objects.for_object(vendor).values_list("kind", flat=True))
    assert kinds == ["proposed", "start_review", "routed"]


def test_approved_vendor_releases_the_waiting_request(requester, it_reviewer, procurement):
    purchase_request = file_with_proposed_vendor(requester)
    vendor = purchase_request.vendor
    decide_step(vendor.steps.get(side="it"), by=it_reviewer, decision="approve")
    assert set(purchase_request.steps.values_list("state", flat=True)) == {StepState.WAITING}
    decide_step(vendor.steps.get(side="procurement"), by=procurement, decision="approve")
    vendor.refresh_from_db()
    assert vendor.status == VendorStatus.APPROVED
    assert set(purchase_request.steps.values_list("state", flat=True)) == {StepState.OPEN}
    assert AuditEvent.objects.for_object(purchase_request).filter(kind="stage_opened").exists()


def test_vendor_with_conditions_is_approved_with_them(requester, it_reviewer, procurement):
    purchase_request = file_with_proposed_vendor(requester)
    Vendor.objects.filter(pk=purchase_request.vendor_id).update(conditions="EU hosting only")
    vendor = purchase_request.vendor
    decide_step(vendor.steps.get(side="it"), by=it_reviewer, decision="approve")
    decide_step(vendor.steps.get(side="procurement"), by=procurement, decision="approve")
    vendor.refresh_from_db()
    assert vendor.status == VendorStatus.APPROVED_WITH_CONDITIONS


def test_rejected_vendor_sends_the_request_back_to_its_requester(requester, it_reviewer):
    purchase_request = file_with_proposed_vendor(requester)
    vendor = purchase_request.vendor
    decide_step(vendor.steps.get(side="it"), by=it_reviewer, decision="reject", comment="No SOC 2")
    vendor.refresh_from_db()
    purchase_request.refresh_from_db()
    assert vendor.status == VendorStatus.REJECTED
    assert purchase_request.state == State.CHANGES_REQUESTED
    assert set(purchase_request.steps.values_list("state", flat=True)) == {StepState.SUPERSEDED}
    event = AuditEvent.objects.for_object(purchase_request).get(kind="request_changes")
    assert "Acme Analytics was not approved: No SOC 2" in event.payload["comment"]


def test_a_second_request_for_a_vendor_under_review_joins_the_same_review(
    requester, other_requester, it_reviewer, procurement
):
    first = file_with_proposed_vendor(requester)
    second = file_with_proposed_vendor(other_requester, name="acme analytics")
    assert second.vendor == first.vendor
    assert first.vendor.steps.count() == 2
    decide_step(first.vendor.steps.get(side="it"), by=it_reviewer, decision="approve")
    decide_step(first.vendor.steps.get(side="procurement"), by=procurement, decision="approve")
    for purchase_request in (first, second):
        assert set(purchase_request.steps.values_list("state", flat=True)) == {StepState.OPEN}


def test_same_person_cannot_decide_both_sides_of_a_vendor_review(requester):
    both = UserFactory(username="both", roles=["it_reviewers", "procurement"])
    vendor = file_with_proposed_vendor(requester).vendor
    decide_step(vendor.steps.get(side="it"), by=both, decision="approve")
    with pytest.raises(PermissionDenied, match="vendor review"):
        decide_step(vendor.steps.get(side="procurement"), by=both, decision="approve")


def test_vendor_steps_are_approved_or_rejected_not_sent_back(requester, it_reviewer):
    vendor = file_with_proposed_vendor(requester).vendor
    with pytest.raises(TransitionNotAllowed, match="approval or rejection"):
        decide_step(
            vendor.steps.get(side="it"), by=it_reviewer, decision="request_changes", comment="?"
        )


def test_an_approved_vendor_needs_no_review(requester):
    purchase_request = workflow.submit_request(
        PurchaseRequestFactory(requester=requester, vendor=VendorFactory(status="approved")),
        by=requester,
    )
    assert set(purchase_request.steps.values_list("state", flat=True)) == {StepState.OPEN}
    assert not purchase_request.vendor.steps.exists()


def test_vendor_review_shows_under_waiting_for_me(client, requester, it_reviewer):
    file_with_proposed_vendor(requester)
    client.force_login(it_reviewer)
    page = client.get("/approvals/").content.decode()
    assert "Vendor review: Acme Analytics" in page
