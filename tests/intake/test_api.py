from datetime import date

import pytest

from audit.models import AuditEvent
from intake.models import PurchaseRequest, State
from tests.factories import CategoryFactory, PurchaseRequestFactory, VendorFactory

pytestmark = pytest.mark.django_db

LIST = "/api/requests/"


def detail(purchase_request, action=""):
    return f"/api/requests/{purchase_request.pk}/{action + '/' if action else ''}"


def test_without_credentials_is_401(api):
    response = api.get(LIST)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_session_authentication_works(client, requester):
    client.force_login(requester)
    assert client.get(LIST).status_code == 200


def test_create_draft_with_line_items(api, requester):
    category = CategoryFactory()
    response = api.as_user(requester).post(
        LIST,
        {
            "title": "Figma seats",
            "category": category.pk,
            "billing": "annual",
            "term_months": 24,
            "currency": "EUR",
            "line_items": [{"description": "Seat", "quantity": "4", "unit_price": "180.00"}],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["state"] == "draft"
    assert body["number"].startswith("PR-")
    assert body["total_cost"] == "1440.00"
    assert body["requester"] == str(requester)
    assert body["line_items"][0]["amount"] == "720.00"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "ok", "currency": "XXX"}, "currency"),
        (
            {
                "title": "ok",
                "line_items": [{"description": "a", "quantity": "0", "unit_price": "1"}],
            },
            "line_items",
        ),
        (
            {
                "title": "ok",
                "line_items": [{"description": "a", "quantity": "1", "unit_price": "-5"}],
            },
            "line_items",
        ),
        ({"title": "ok", "needed_by": "31-12-2026"}, "needed_by"),
        ({"title": "ok", "proposed_vendor_website": "not a url"}, "proposed_vendor_website"),
        ({"title": "ok", "term_months": 0}, "term_months"),
        ({"title": "ok", "state": "approved", "category": 999999}, "category"),
    ],
)
def test_invalid_payload_is_400_with_field_errors(api, requester, payload, field):
    response = api.as_user(requester).post(LIST, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not PurchaseRequest.objects.exists()


def test_vendor_and_proposed_vendor_together_is_400(api, requester):
    response = api.as_user(requester).post(
        LIST,
        {"title": "ok", "vendor": VendorFactory().pk, "proposed_vendor_name": "Acme"},
        format="json",
    )
    assert response.status_code == 400
    assert "proposed_vendor_name" in response.json()


def test_state_cannot_be_written(api, requester):
    draft = PurchaseRequestFactory(requester=requester)
    response = api.as_user(requester).patch(detail(draft), {"state": "approved"}, format="json")
    assert response.status_code == 200
    draft.refresh_from_db()
    assert draft.state == State.DRAFT


def test_requester_cannot_see_or_change_another_requesters_request(api, requester, other_requester):
    theirs = PurchaseRequestFactory(requester=other_requester)
    api.as_user(requester)
    assert api.get(detail(theirs)).status_code == 404
    assert api.patch(detail(theirs), {"title": "mine now"}, format="json").status_code == 404
    assert api.post(detail(theirs, "submit")).status_code == 404
    assert api.get(detail(theirs, "events")).status_code == 404
    assert api.post(detail(theirs, "comments"), {"body": "hi"}).status_code == 404
    assert theirs.number not in str(api.get(LIST).json())


def test_patch_changes_a_draft(api, requester):
    draft = PurchaseRequestFactory(requester=requester)
    response = api.as_user(requester).patch(
        detail(draft),
        {
            "title": "Renamed",
            "line_items": [{"description": "Seat", "quantity": "2", "unit_price": "50"}],
        },
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["title"] == "Renamed"
    assert response.json()["total_cost"] == "100.00"


def test_patch_on_a_request_in_review_is_409(api, requester):
    in_review = PurchaseRequestFactory(requester=requester, state=State.IN_REVIEW)
    response = api.as_user(requester).patch(detail(in_review), {"title": "Changed"}, format="json")
    assert response.status_code == 409
    assert "in review" in response.json()["detail"]


def test_leader_may_see_but_not_edit(api, requester, cio):
    draft = PurchaseRequestFactory(requester=requester)
    api.as_user(cio)
    assert api.get(detail(draft)).status_code == 200
    assert api.patch(detail(draft), {"title": "CIO edit"}, format="json").status_code == 403


def test_put_and_delete_are_not_offered(api, requester):
    draft = PurchaseRequestFactory(requester=requester)
    api.as_user(requester)
    assert api.put(detail(draft), {"title": "x"}, format="json").status_code == 405
    assert api.delete(detail(draft)).status_code == 405


def test_submit_complete_draft(api, requester):
    draft = PurchaseRequestFactory(requester=requester)
    response = api.as_user(requester).post(detail(draft, "submit"))
    assert response.status_code == 200
    assert response.json()["state"] == "in_review"


def test_submit_incomplete_draft_is_400_with_field_errors(api, requester):
    draft = PurchaseRequestFactory(requester=requester, category=None, line_items=[])
    response = api.as_user(requester).post(detail(draft, "submit"))
    assert response.status_code == 400
    assert set(response.json()) >= {"category", "line_items"}


def test_submit_twice_is_409_saying_why(api, requester):
    draft = PurchaseRequestFactory(requester=requester)
    api.as_user(requester)
    api.post(detail(draft, "submit"))
    response = api.post(detail(draft, "submit"))
    assert response.status_code == 409
    assert response.json()["detail"] == f"{draft.number} is in review, so it cannot be submitted."


def test_other_user_who_sees_it_cannot_submit(api, requester, cpo):
    draft = PurchaseRequestFactory(requester=requester)
    assert api.as_user(cpo).post(detail(draft, "submit")).status_code == 403


def test_resubmit_only_from_changes_requested(api, requester):
    draft = PurchaseRequestFactory(requester=requester)
    api.as_user(requester)
    assert api.post(detail(draft, "resubmit")).status_code == 409
    changes = PurchaseRequestFactory(requester=requester, state=State.CHANGES_REQUESTED)
    assert api.post(detail(changes, "resubmit")).json()["state"] == "in_review"


def test_withdraw(api, requester):
    in_review = PurchaseRequestFactory(requester=requester, state=State.IN_REVIEW)
    api.as_user(requester)
    response = api.post(detail(in_review, "withdraw"), {"reason": "Budget cut"}, format="json")
    assert response.status_code == 200
    assert response.json()["state"] == "withdrawn"
    assert api.post(detail(in_review, "withdraw")).status_code == 409


def test_mark_ordered_and_close(api, requester, procurement):
    approved = PurchaseRequestFactory(requester=requester, state=State.APPROVED)
    assert (
        api.as_user(requester)
        .post(detail(approved, "mark-ordered"), {"po_number": "PO-1"}, format="json")
        .status_code
        == 403
    )
    api.as_user(procurement)
    assert api.post(detail(approved, "mark-ordered"), {}, format="json").status_code == 400
    response = api.post(
        detail(approved, "mark-ordered"),
        {"po_number": "PO-77", "ordered_on": "2026-11-20"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["po_number"] == "PO-77"
    assert (
        api.post(detail(approved, "mark-ordered"), {"po_number": "PO-2"}, format="json").status_code
        == 409
    )
    api.as_user(requester)
    assert (
        api.post(
            detail(approved, "close"), {"received_on": "not a date"}, format="json"
        ).status_code
        == 400
    )
    response = api.post(detail(approved, "close"), {"received_on": "2026-11-22"}, format="json")
    assert response.status_code == 200
    assert (response.json()["state"], response.json()["received_on"]) == ("closed", "2026-11-22")


def test_close_before_order_is_409(api, requester):
    approved = PurchaseRequestFactory(requester=requester, state=State.APPROVED)
    response = api.as_user(requester).post(detail(approved, "close"), {}, format="json")
    assert response.status_code == 409


def test_events_list_the_audit_trail(api, requester):
    draft = PurchaseRequestFactory(requester=requester)
    api.as_user(requester).post(detail(draft, "submit"))
    events = api.get(detail(draft, "events")).json()
    assert [(e["kind"], e["from_state"], e["to_state"], e["actor"]) for e in events] == [
        ("submit", "draft", "in_review", str(requester)),
        ("routed", "", "", str(requester)),
    ]


def test_comments(api, requester):
    draft = PurchaseRequestFactory(requester=requester)
    api.as_user(requester)
    assert api.post(detail(draft, "comments"), {"body": ""}, format="json").status_code == 400
    response = api.post(detail(draft, "comments"), {"body": "Quote attached soon"}, format="json")
    assert response.status_code == 201
    assert [c["body"] for c in api.get(detail(draft, "comments")).json()] == ["Quote attached soon"]
    assert AuditEvent.objects.for_object(draft).filter(kind="commented").count() == 1


def test_filters(api, requester, cio):
    saas = CategoryFactory()
    hardware = CategoryFactory(name="Hardware", slug="hardware")
    mine = PurchaseRequestFactory(requester=requester, category=saas)
    PurchaseRequestFactory(requester=requester, category=hardware, state=State.IN_REVIEW)
    theirs = PurchaseRequestFactory(requester=cio, category=saas)
    api.as_user(cio)

    def numbers(query):
        return {row["number"] for row in api.get(LIST + query).json()["results"]}

    assert len(numbers("")) == 3
    assert numbers("?mine=true") == {theirs.number}
    assert numbers("?state=draft&category=saas-subscription&mine=false") == {mine.number}
    assert len(numbers("?state=draft&state=in_review")) == 3
    assert api.get(LIST + "?state=bogus").status_code == 400


def test_list_is_paginated(api, requester):
    PurchaseRequestFactory.create_batch(30, requester=requester)
    body = api.as_user(requester).get(LIST).json()
    assert body["count"] == 30
    assert len(body["results"]) == 25
    assert body["next"]


@pytest.mark.parametrize("size", [5, 50])
def test_list_query_count_does_not_grow_with_rows(
    api, requester, django_assert_max_num_queries, size
):
    PurchaseRequestFactory.create_batch(size, requester=requester)
    api.as_user(requester)
    # token+user, groups, delegations, count, rows, line items, open steps
    with django_assert_max_num_queries(7):
        response = api.get(LIST + "?page_size=50")
    assert response.status_code == 200


def test_schema_and_docs_are_served(api, requester):
    api.as_user(requester)
    schema = api.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/requests/{id}/mark-ordered/" in schema.content
    docs = api.get("/api/docs/")
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()


def test_obtain_token_with_password(api, requester):
    response = api.post("/api/auth/token/", {"username": "rita", "password": "secret-pass-123"})
    assert response.status_code == 200
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['token']}")
    assert api.get(LIST).status_code == 200
    assert api.post("/api/auth/token/", {"username": "rita", "password": "nope"}).status_code == 400


def test_ordered_on_defaults_to_today(api, requester, procurement):
    approved = PurchaseRequestFactory(requester=requester, state=State.APPROVED)
    body = (
        api.as_user(procurement)
        .post(detail(approved, "mark-ordered"), {"po_number": "PO-9"})
        .json()
    )
    assert body["ordered_on"] == date.today().isoformat()


def test_the_category_filter_takes_the_id_the_request_body_uses(api, requester):
    from intake.models import Category

    saas = Category.objects.get(slug="saas-subscription")
    hardware = Category.objects.get(slug="hardware")
    mine = PurchaseRequestFactory(requester=requester, category=saas)
    PurchaseRequestFactory(requester=requester, category=hardware)
    api.as_user(requester)
    by_id = api.get(f"/api/requests/?category={saas.pk}")
    assert by_id.status_code == 200
    assert [row["number"] for row in by_id.json()["results"]] == [mine.number]
    assert by_id.json()["results"][0]["category"] == saas.pk  # the same identifier
    by_slug = api.get("/api/requests/?category=saas-subscription")
    assert [row["number"] for row in by_slug.json()["results"]] == [mine.number]


@pytest.mark.parametrize("value", ["999999", "no-such-category", "99999999999999999999999"])
def test_an_unknown_category_is_400_not_an_empty_list(api, requester, value):
    response = api.as_user(requester).get(f"/api/requests/?category={value}")
    assert response.status_code == 400
    assert "No category" in response.json()["category"][0]
