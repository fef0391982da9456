"""JSON nested deeper than the parser recurses, bodies and uploads over the limits, a request's
attachments together: 400 or 413, signed in or not (SPEC §9)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from approvals import workflow
from intake.models import Attachment, PurchaseRequest
from tests.factories import PurchaseRequestFactory, VendorFactory
from tests.security.bad_input_support import LIST, NEW, form_data, rows_saved

pytestmark = pytest.mark.django_db


# JSON nested deeper than the parser recurses: 400, signed in or not

DEEP_BODIES = {
    "1,000 arrays": "[" * 1000 + "]" * 1000,
    "1,000 objects": '{"a":' * 1000 + "1" + "}" * 1000,
    "deep inside a field": '{"title": "t", "line_items": ' + "[" * 500 + "]" * 500 + "}",
    "unclosed": "[" * 100_000,
}


@pytest.mark.parametrize("body", DEEP_BODIES.values(), ids=DEEP_BODIES.keys())
def test_deeply_nested_json_on_the_token_endpoint_is_400_without_signing_in(body):
    from rest_framework.test import APIClient

    response = APIClient().post("/api/auth/token/", body, content_type="application/json")
    assert response.status_code == 400
    assert "nest at most 32 levels" in response.json()["detail"]


@pytest.mark.parametrize("body", DEEP_BODIES.values(), ids=DEEP_BODIES.keys())
def test_deeply_nested_json_is_400_on_every_kind_of_write(api, requester, it_reviewer, body):
    draft = PurchaseRequestFactory(requester=requester)
    in_review = workflow.submit_request(PurchaseRequestFactory(requester=requester), by=requester)
    step = in_review.steps.get(side="it")
    writes = [
        (requester, "post", LIST),
        (requester, "patch", f"{LIST}{draft.pk}/"),
        (requester, "post", f"{LIST}{in_review.pk}/comments/"),
        (requester, "post", f"{LIST}{in_review.pk}/withdraw/"),
        (it_reviewer, "post", f"/api/steps/{step.pk}/approve/"),
        (it_reviewer, "post", "/api/rules/preview/"),
    ]
    before = rows_saved()
    for user, method, path in writes:
        response = getattr(api.as_user(user), method)(path, body, content_type="application/json")
        assert response.status_code == 400, (method, path, response.content[:200])
        assert "nest at most 32 levels" in response.json()["detail"]
    assert rows_saved() == before


def test_brackets_inside_json_strings_do_not_count_as_nesting(api, requester):
    title = "[" * 150 + "{" * 50
    response = api.as_user(requester).post(LIST, {"title": title}, format="json")
    assert response.status_code == 201
    assert PurchaseRequest.objects.get().title == title


def test_json_nested_to_the_limit_is_parsed_and_validated(api, requester):
    body = '{"title": "t", "line_items": ' + "[" * 31 + "]" * 31 + "}"
    response = api.as_user(requester).post(LIST, body, content_type="application/json")
    assert response.status_code == 400
    assert "line_items" in response.json()


# Sizes: request bodies and a request's attachments


def test_a_page_post_over_the_body_limit_is_413(client, requester, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    client.force_login(requester)
    before = rows_saved()
    response = client.post(NEW, form_data(description="x" * 20_000))
    assert response.status_code == 413
    assert "too large" in response.content.decode()
    assert rows_saved() == before


def test_an_upload_over_the_body_limit_is_413_on_pages_and_in_the_api(
    client, api, requester, procurement, settings
):
    from tests.security.test_permission_matrix import PNG

    settings.TANDEM_MAX_REQUEST_BYTES = 5_000
    draft = PurchaseRequestFactory(requester=requester)
    client.force_login(requester)
    big = SimpleUploadedFile("quote.png", PNG + b"\0" * 10_000, content_type="image/png")
    response = client.post(f"/requests/{draft.pk}/attachments/", {"attachments": big})
    assert response.status_code == 413
    assert not Attachment.objects.exists()
    vendor = VendorFactory()
    big.seek(0)
    response = api.as_user(procurement).post(
        f"/api/vendors/{vendor.pk}/certificates/",
        {"kind": "iso27001", "issuer": "A", "issued_on": "2026-01-01",
         "expires_on": "2027-01-01", "document": big},
        format="multipart",
    )  # fmt: skip
    assert response.status_code == 413
    assert "too large" in response.json()["detail"]
    assert not vendor.certificates.exists()


def test_form_fields_over_the_data_limit_in_an_upload_are_413(api, procurement, settings):
    """Under the upload cap, but more than DATA_UPLOAD_MAX_MEMORY_SIZE of plain fields: Django
    stops reading (RequestDataTooBig), and that is 413 too."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_000
    vendor = VendorFactory()
    response = api.as_user(procurement).post(
        f"/api/vendors/{vendor.pk}/certificates/",
        {"kind": "iso27001", "issuer": "A" * 5_000, "issued_on": "2026-01-01",
         "expires_on": "2027-01-01"},
        format="multipart",
    )  # fmt: skip
    assert response.status_code == 413


def test_a_requests_attachments_together_are_bounded(client, requester, settings):
    from tests.security.test_permission_matrix import PNG

    settings.TANDEM_MAX_ATTACHMENT_BYTES_PER_REQUEST = len(PNG) * 2
    draft = PurchaseRequestFactory(requester=requester)
    client.force_login(requester)

    def upload(*names):
        files = [SimpleUploadedFile(n, PNG, content_type="image/png") for n in names]
        return client.post(f"/requests/{draft.pk}/attachments/", {"attachments": files})

    upload("one.png")
    assert draft.attachments.count() == 1
    response = upload("two.png", "three.png")  # would make three: none of them is kept
    assert response.status_code == 302
    assert draft.attachments.count() == 1
    page = client.get(draft.get_absolute_url()).content.decode()
    assert "at most" in page and "together" in page
    upload("two.png")
    assert draft.attachments.count() == 2
