from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from approvals import services as approval_services
from approvals import workflow
from audit.models import AuditEvent
from core.errors import TransitionNotAllowed
from intake import services
from intake.models import LineItem, PurchaseRequest, State
from tests.factories import CategoryFactory, PurchaseRequestFactory, VendorFactory

pytestmark = pytest.mark.django_db


def kinds(purchase_request):
    return list(AuditEvent.objects.for_object(purchase_request).values_list("kind", flat=True))


def test_create_computes_total_cost_from_line_items_and_term(requester):
    purchase_request = services.create_request(
        by=requester,
        fields={"title": "Analytics", "billing": "monthly", "term_months": 12},
        line_items=[
            {"description": "Seat", "quantity": Decimal("3"), "unit_price": Decimal("19.99")},
            {"description": "Admin seat", "quantity": Decimal("1"), "unit_price": Decimal("40.00")},
        ],
    )
    purchase_request.refresh_from_db()
    assert purchase_request.total_cost == Decimal("1199.64")  # (59.97 + 40.00) * 12
    assert purchase_request.state == State.DRAFT
    assert purchase_request.department == requester.department
    assert kinds(purchase_request) == ["created"]


def test_a_draft_needs_only_a_title(requester):
    with pytest.raises(ValidationError) as error:
        services.create_request(by=requester, fields={"title": ""})
    assert "title" in error.value.message_dict
    assert not PurchaseRequest.objects.exists()


def test_invalid_line_item_saves_nothing(requester):
    with pytest.raises(ValidationError):
        services.create_request(
            by=requester,
            fields={"title": "Laptops"},
            line_items=[
                {"description": "Laptop", "quantity": Decimal("-1"), "unit_price": Decimal("1")}
            ],
        )
    assert not PurchaseRequest.objects.exists()
    assert not LineItem.objects.exists()


def test_vendor_and_proposed_vendor_are_exclusive(requester):
    with pytest.raises(ValidationError) as error:
        services.create_request(
            by=requester,
            fields={"title": "x", "vendor": VendorFactory(), "proposed_vendor_name": "Acme"},
        )
    assert "proposed_vendor_name" in error.value.message_dict


def test_submit_names_every_missing_field(requester):
    draft = services.create_request(
        by=requester, fields={"title": "Incomplete", "billing": "annual"}
    )
    with pytest.raises(ValidationError) as error:
        workflow.submit_request(draft, by=requester)
    assert set(error.value.message_dict) >= {
        "description",
        "business_justification",
        "category",
        "needed_by",
        "data_classification",
        "handles_personal_data",
        "term_months",
        "vendor",
        "line_items",
    }
    draft.refresh_from_db()
    assert draft.state == State.DRAFT
    assert kinds(draft) == ["created"]


def test_submit_refuses_a_needed_by_date_in_the_past(requester):
    draft = PurchaseRequestFactory(requester=requester, needed_by=date(2020, 1, 1))
    with pytest.raises(ValidationError, match="in the past"):
        workflow.submit_request(draft, by=requester)


def test_submit_moves_a_complete_draft_to_review_and_records_it(requester):
    draft = PurchaseRequestFactory(requester=requester)
    submitted = workflow.submit_request(draft, by=requester)
    assert submitted.state == State.IN_REVIEW
    assert submitted.submitted_at is not None
    event = AuditEvent.objects.for_object(submitted).get(kind="submit")
    assert (event.actor, event.from_state, event.to_state) == (requester, "draft", "in_review")


def test_only_the_requester_or_an_admin_submits(requester, other_requester, admin_user):
    draft = PurchaseRequestFactory(requester=requester)
    with pytest.raises(PermissionDenied):
        workflow.submit_request(draft, by=other_requester)
    assert workflow.submit_request(draft, by=admin_user).state == State.IN_REVIEW


def test_nobody_edits_a_request_in_review(requester):
    in_review = PurchaseRequestFactory(requester=requester, state=State.IN_REVIEW)
    with pytest.raises(TransitionNotAllowed, match="only drafts and requests with changes"):
        services.update_request(in_review, by=requester, fields={"title": "Changed"})
    in_review.refresh_from_db()
    assert in_review.title != "Changed"


def test_edit_records_changed_fields_and_recomputes_total(requester):
    draft = PurchaseRequestFactory(requester=requester)
    services.update_request(
        draft,
        by=requester,
        fields={"title": "Renamed", "billing": "annual", "term_months": 24},
    )
    draft.refresh_from_db()
    assert draft.total_cost == Decimal("2000.00")  # 10 x 100.00, billed for two years
    edited = AuditEvent.objects.for_object(draft).get(kind="edited")
    assert set(edited.payload["fields"]) == {"title", "billing", "term_months"}


def test_resubmit_after_changes_requested(requester):
    purchase_request = PurchaseRequestFactory(requester=requester, state=State.CHANGES_REQUESTED)
    services.update_request(purchase_request, by=requester, fields={"title": "Fixed"})
    assert workflow.resubmit_request(purchase_request, by=requester).state == State.IN_REVIEW


@pytest.mark.parametrize("state", [State.DRAFT, State.IN_REVIEW, State.CHANGES_REQUESTED])
def test_withdraw_from_open_states(requester, state):
    purchase_request = PurchaseRequestFactory(requester=requester, state=state)
    withdrawn = workflow.withdraw_request(purchase_request, by=requester, reason="Not needed")
    assert withdrawn.state == State.WITHDRAWN


@pytest.mark.parametrize("state", [State.APPROVED, State.REJECTED, State.CLOSED, State.WITHDRAWN])
def test_withdraw_is_refused_after_the_decision(requester, state):
    purchase_request = PurchaseRequestFactory(requester=requester, state=state)
    with pytest.raises(TransitionNotAllowed, match="cannot be withdrawn"):
        workflow.withdraw_request(purchase_request, by=requester)


def test_procurement_orders_and_the_requester_closes(requester, procurement):
    approved = PurchaseRequestFactory(requester=requester, state=State.APPROVED)
    with pytest.raises(PermissionDenied, match="Only procurement"):
        workflow.mark_ordered(approved, by=requester, po_number="PO-1", ordered_on=date.today())
    ordered = workflow.mark_ordered(
        approved, by=procurement, po_number="PO-4711", ordered_on=date.today()
    )
    assert (ordered.state, ordered.po_number) == (State.ORDERED, "PO-4711")
    closed = workflow.close_request(ordered, by=requester, received_on=date.today())
    assert (closed.state, closed.received_on) == (State.CLOSED, date.today())
    assert kinds(closed)[-2:] == ["mark_ordered", "close"]


def test_comment_is_stored_with_an_audit_event(requester):
    purchase_request = PurchaseRequestFactory(requester=requester)
    comment = services.add_comment(purchase_request, by=requester, body="  Any update?  ")
    assert comment.body == "Any update?"
    assert (
        AuditEvent.objects.for_object(purchase_request).get(kind="commented").payload["body"]
        == "Any update?"
    )


def test_empty_comment_is_refused(requester):
    purchase_request = PurchaseRequestFactory(requester=requester)
    with pytest.raises(ValidationError, match="Write a comment"):
        services.add_comment(purchase_request, by=requester, body="   ")


def test_another_requester_cannot_comment(requester, other_requester):
    purchase_request = PurchaseRequestFactory(requester=requester)
    with pytest.raises(PermissionDenied):
        services.add_comment(purchase_request, by=other_requester, body="Hi")


def test_failed_transition_leaves_no_event(requester):
    purchase_request = PurchaseRequestFactory(requester=requester, state=State.CLOSED)
    with pytest.raises(TransitionNotAllowed):
        workflow.submit_request(purchase_request, by=requester)
    assert kinds(purchase_request) == []


def test_category_inactive_is_not_offered(requester):
    from intake.forms import PurchaseRequestForm

    retired = CategoryFactory(name="Fax machines", slug="fax", active=False)
    offered = [str(value) for value, _ in PurchaseRequestForm().fields["category"].widget.choices]
    assert str(retired.pk) not in offered
    assert str(CategoryFactory().pk) in offered


def test_needed_by_today_is_fine(requester):
    draft = PurchaseRequestFactory(requester=requester, needed_by=timezone.localdate())
    assert workflow.submit_request(draft, by=requester).state == State.IN_REVIEW


def test_saving_a_draft_with_a_refused_attachment_saves_nothing(requester):
    """The form's save is one transaction owned by the service (save_draft): a file refused
    after the request was written takes the request with it."""
    fake = SimpleUploadedFile("quote.pdf", b"MZ\x90\x00 this is a program")
    before = PurchaseRequest.objects.count()
    with pytest.raises(ValidationError):
        services.save_draft(
            None, by=requester, fields={"title": "Laptops"}, line_items=[], attachments=[fake]
        )
    assert PurchaseRequest.objects.count() == before
    saved = services.save_draft(None, by=requester, fields={"title": "Laptops"}, line_items=[])
    assert saved.state == State.DRAFT and saved.requester == requester


def test_send_to_review_resubmits_what_came_back_with_changes(requester, it_reviewer, procurement):
    submitted = workflow.send_to_review(PurchaseRequestFactory(requester=requester), by=requester)
    assert submitted.state == State.IN_REVIEW
    step = submitted.steps.get(side="it")
    approval_services.decide_step(step, by=it_reviewer, decision="request_changes", comment="Why?")
    submitted.refresh_from_db()
    assert submitted.state == State.CHANGES_REQUESTED
    resubmitted = workflow.send_to_review(submitted, by=requester)
    assert resubmitted.state == State.IN_REVIEW
    assert resubmitted.steps.filter(round=2).exists()
