import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from intake.models import PurchaseRequest, State
from tests.factories import CategoryFactory, PurchaseRequestFactory, VendorFactory
from tests.intake.test_uploads import PDF

pytestmark = pytest.mark.django_db


def form_data(**overrides):
    data = {
        "title": "Figma seats",
        "description": "Design tool",
        "business_justification": "Team growth",
        "expected_benefit": "",
        "category": CategoryFactory().pk,
        "department": "",
        "needed_by": "2099-01-31",
        "currency": "EUR",
        "billing": "annual",
        "term_months": "12",
        "vendor": VendorFactory().pk,
        "proposed_vendor_name": "",
        "proposed_vendor_website": "",
        "data_classification": "internal",
        "handles_personal_data": "false",
        "integration_details": "",
        "items-TOTAL_FORMS": "2",
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "100",
        "items-0-description": "Seat",
        "items-0-quantity": "3",
        "items-0-unit_price": "150.00",
        "items-1-description": "",
        "items-1-quantity": "",
        "items-1-unit_price": "",
    }
    data.update(overrides)
    return data


def test_pages_require_sign_in(client):
    response = client.get("/requests/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")
    assert client.get("/accounts/login/").status_code == 200


def test_sign_in_and_out(client, requester):
    response = client.post("/accounts/login/", {"username": "rita", "password": "secret-pass-123"})
    assert response.status_code == 302
    assert client.get("/requests/").status_code == 200
    client.post("/accounts/logout/")
    assert client.get("/requests/").status_code == 302


def test_wrong_password_says_so(client, requester):
    response = client.post("/accounts/login/", {"username": "rita", "password": "wrong"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content


def test_save_draft_from_the_form(client, requester):
    client.force_login(requester)
    response = client.post("/requests/new/", form_data(save="1"))
    purchase_request = PurchaseRequest.objects.get()
    assert response.status_code == 302
    assert response.url == f"/requests/{purchase_request.pk}/"
    assert purchase_request.state == State.DRAFT
    assert str(purchase_request.total_cost) == "450.00"
    page = client.get(response.url).content.decode()
    assert "450.00 EUR" in page
    assert "saved as a draft" in page


def test_invalid_field_shows_its_error_and_keeps_the_input(client, requester):
    client.force_login(requester)
    response = client.post("/requests/new/", form_data(**{"items-0-quantity": "-1", "save": "1"}))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Ensure this value is greater than or equal to 0.01." in page
    assert 'value="Figma seats"' in page
    assert not PurchaseRequest.objects.exists()


def test_submit_from_the_form(client, requester):
    client.force_login(requester)
    response = client.post("/requests/new/", form_data(submit="1"))
    purchase_request = PurchaseRequest.objects.get()
    assert response.status_code == 302
    assert purchase_request.state == State.IN_REVIEW


def test_incomplete_submit_keeps_the_draft_and_marks_missing_fields(client, requester):
    client.force_login(requester)
    response = client.post(
        "/requests/new/",
        form_data(
            submit="1",
            category="",
            **{"items-0-description": "", "items-0-quantity": "", "items-0-unit_price": ""},
        ),
    )
    purchase_request = PurchaseRequest.objects.get()
    assert purchase_request.state == State.DRAFT
    # The address becomes the draft's edit page (a reload shows the draft, not a new form).
    edit = f"/requests/{purchase_request.pk}/edit/?check=1"
    assert response.status_code == 302 and response["Location"] == edit
    page = client.get(edit).content.decode()
    assert "saved as a draft but not submitted" in page
    assert "Give a category." in page
    assert "Add at least one line item." in page
    assert f'action="/requests/{purchase_request.pk}/edit/"' in page
    summary = re.search(r'id="error-summary".*?</ul>', page, re.S).group()
    assert '<a class="alert-link fw-normal" href="#id_category">Category: Give a category.</a>' in (
        summary
    )
    assert 'href="#line-items">Add at least one line item.</a>' in summary
    # In the order of the page: category (What) before the line items (Cost).
    assert summary.index("#id_category") < summary.index("#line-items")
    assert 'aria-invalid="true"' in re.search(r'<select name="category"[^>]*>', page).group()


def test_submit_button_on_an_incomplete_draft_shows_the_form_with_errors(client, requester):
    draft = PurchaseRequestFactory(requester=requester, description="")
    client.force_login(requester)
    response = client.post(f"/requests/{draft.pk}/submit/", follow=True)
    assert response.redirect_chain == [(f"/requests/{draft.pk}/edit/?check=1", 302)]
    page = response.content.decode()
    assert "Give a description." in page
    assert 'href="#id_description">Description: Give a description.</a>' in page


def test_required_markers_match_what_submit_requires(client, requester):
    """A star on every field submit asks for, and on no other; the term's and the
    integration details' stars follow billing and the integration answer."""
    client.force_login(requester)
    page = client.get("/requests/new/").content.decode()
    starred = set(
        re.findall(
            r'<label class="form-label" for="id_(\w+)">[^<]*<span class="text-danger" '
            r'aria-hidden="true">\*</span>',
            page,
        )
    )
    assert starred == {
        "title",
        "description",
        "business_justification",
        "category",
        "department",
        "needed_by",
        "currency",
        "billing",
        "data_classification",
        "handles_personal_data",
    }
    # An existing vendor or a new one: no star on either, the pair says so in words.
    for name in ("vendor", "proposed_vendor_name"):
        pattern = rf'<div class="form-text" id="id_{name}_one_of" data-one-of>([^<]*)<'
        note = re.search(pattern, page)
        assert note and note.group(1).startswith("One of the two is needed to submit")
        assert f'aria-describedby="id_{name}_one_of"' in page
    for conditional in ("term_months", "integration_details"):
        label = re.search(rf'<label class="form-label" for="id_{conditional}">.*?</label>', page)
        assert "data-required-when" in label.group() and " hidden>*" in label.group()
    draft = PurchaseRequestFactory(requester=requester, billing="monthly", term_months=12)
    page = client.get(f"/requests/{draft.pk}/edit/").content.decode()
    label = re.search(r'<label class="form-label" for="id_term_months">.*?</label>', page).group()
    assert 'data-required-when="recurring">*' in label


def test_request_page_shows_timeline_and_comments(client, requester):
    draft = PurchaseRequestFactory(requester=requester)
    client.force_login(requester)
    client.post(f"/requests/{draft.pk}/submit/")
    client.post(f"/requests/{draft.pk}/comments/", {"body": "<script>alert(1)</script>"})
    page = client.get(f"/requests/{draft.pk}/").content.decode()
    assert "Submitted for review" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)</script>" not in page


def test_another_requesters_request_is_404(client, requester, other_requester):
    theirs = PurchaseRequestFactory(requester=other_requester)
    client.force_login(requester)
    assert client.get(f"/requests/{theirs.pk}/").status_code == 404
    assert client.post(f"/requests/{theirs.pk}/withdraw/").status_code == 404
    assert client.get(f"/requests/{theirs.pk}/edit/").status_code == 404


def test_transition_not_allowed_is_explained(client, requester):
    closed = PurchaseRequestFactory(requester=requester, state=State.CLOSED)
    client.force_login(requester)
    response = client.post(f"/requests/{closed.pk}/withdraw/", follow=True)
    assert "is closed, so it cannot be withdrawn" in response.content.decode()


def test_edit_of_a_request_in_review_is_refused(client, requester):
    in_review = PurchaseRequestFactory(requester=requester, state=State.IN_REVIEW)
    client.force_login(requester)
    response = client.post(
        f"/requests/{in_review.pk}/edit/", form_data(title="Sneaky"), follow=True
    )
    assert (
        "Only drafts and requests with changes requested can be edited."
        in response.content.decode()
    )
    in_review.refresh_from_db()
    assert in_review.title != "Sneaky"


def test_attachment_upload_and_download(client, requester, other_requester):
    draft = PurchaseRequestFactory(requester=requester)
    client.force_login(requester)
    client.post(
        f"/requests/{draft.pk}/attachments/",
        {"attachments": [SimpleUploadedFile("quote.pdf", PDF)]},
    )
    attachment = draft.attachments.get()
    assert attachment.content_type == "application/pdf"
    response = client.get(f"/requests/{draft.pk}/attachments/{attachment.pk}/")
    assert b"".join(response.streaming_content) == PDF
    assert AuditEvent.objects.for_object(draft).filter(kind="attachment_added").exists()
    client.force_login(other_requester)
    assert client.get(f"/requests/{draft.pk}/attachments/{attachment.pk}/").status_code == 404


def test_disguised_attachment_is_refused_on_the_form_and_nothing_is_saved(client, requester):
    client.force_login(requester)
    fake = SimpleUploadedFile("quote.pdf", b"MZ\x90\x00 this is a program")
    response = client.post("/requests/new/", {**form_data(save="1"), "attachments": [fake]})
    assert "is not a PDF, PNG, JPEG, DOCX, XLSX or CSV file" in response.content.decode()
    assert not PurchaseRequest.objects.exists()


def test_procurement_marks_ordered_from_the_page(client, requester, procurement):
    approved = PurchaseRequestFactory(requester=requester, state=State.APPROVED)
    client.force_login(procurement)
    page = client.get(f"/requests/{approved.pk}/").content.decode()
    assert "Mark as ordered" in page
    client.post(
        f"/requests/{approved.pk}/mark-ordered/", {"po_number": "PO-5", "ordered_on": "2026-11-01"}
    )
    approved.refresh_from_db()
    assert approved.state == State.ORDERED


def test_my_requests_shows_state_and_what_it_waits_on(client, requester, other_requester):
    PurchaseRequestFactory(requester=requester, state=State.IN_REVIEW, title="Mine")
    PurchaseRequestFactory(requester=other_requester, title="Not mine")
    client.force_login(requester)
    page = client.get("/requests/").content.decode()
    assert "Mine" in page and "Not mine" not in page
    assert re.search(r'data-state="in_review">In review<', page)
    assert "IT and procurement review" in page


@pytest.mark.parametrize("size", [5, 50])
def test_my_requests_query_count_does_not_grow(client, requester, django_assert_num_queries, size):
    PurchaseRequestFactory.create_batch(size, requester=requester)
    client.force_login(requester)
    # session, user, groups (menu), delegations, count, page of rows, their open steps, unread
    # bell, the steps waiting for the user (navigation), whether they own a budget (the menu's
    # Budgets); when steps are open, their groups' people too
    # (tests/intake/test_requester_pages.py)
    with django_assert_num_queries(10):
        response = client.get("/requests/")
    assert response.status_code == 200


def test_new_form_starts_with_the_requesters_department(client, requester):
    client.force_login(requester)
    form = client.get("/requests/new/").context["form"]
    assert form["department"].value() == requester.department_id
