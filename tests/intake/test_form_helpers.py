"""The request form's helpers (issue 14, item 3): the vendor picker, the live "approvers will
be…" preview and the duplicate warning in two parts. Each answers any input with a page, never
a 5xx, and runs a fixed number of queries."""

import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from accounts import roles
from approvals.models import ApprovalRule
from intake import forms as intake_forms
from intake.models import Category, ExchangeRate
from tests.factories import PurchaseRequestFactory, VendorFactory

from .test_pages import form_data

pytestmark = pytest.mark.django_db


def html(response) -> str:
    return response.content.decode()


def picked(page: str) -> list[str]:
    return re.findall(r'data-vendor-name="([^"]+)"', page)


def test_the_vendor_picker_finds_vendors_with_status_and_tier(client, requester):
    VendorFactory(name="Acme Analytics", status="approved", risk_tier="medium")
    VendorFactory(name="Big Acme", status="under_review")
    VendorFactory(name="Acme Gone", status="offboarded")
    VendorFactory(name="Acme No", status="rejected")
    VendorFactory(name="Other", legal_name="Acme Holdings Ltd", status="prospective")
    client.force_login(requester)

    page = html(client.get("/requests/vendor-search/", {"q": "acme"}))

    # Names starting with the words first, approved ones before the others; rejected and
    # offboarded vendors cannot be named on a request.
    assert picked(page) == ["Acme Analytics", "Big Acme", "Other"]
    assert 'data-status="approved"' in page and 'data-tier="medium"' in page
    assert 'data-status="under_review"' in page and "Not assessed" in page
    assert "Not approved yet" in page


def test_the_vendor_picker_says_when_nothing_matches(client, requester):
    client.force_login(requester)
    page = html(client.get("/requests/vendor-search/", {"q": "<b>zzz</b>"}))
    assert "No vendor called “&lt;b&gt;zzz&lt;/b&gt;”" in page
    assert html(client.get("/requests/vendor-search/")).strip() == ""  # empty box: no list


@pytest.mark.parametrize("query", ["", "a" * 5000, "\u202e\u0000x", "%_%"])
def test_odd_searches_get_a_page(client, requester, query):
    client.force_login(requester)
    assert client.get("/requests/vendor-search/", {"q": query}).status_code == 200


def test_the_vendor_picker_runs_a_fixed_number_of_queries(
    client, requester, django_assert_max_num_queries
):
    for index in range(30):
        VendorFactory(name=f"Acme {index:02d}", status="approved")
    client.force_login(requester)
    client.get("/requests/vendor-search/", {"q": "acme"})  # session and user loaded once
    with django_assert_max_num_queries(4):
        page = html(client.get("/requests/vendor-search/", {"q": "acme"}))
    assert len(picked(page)) == 8


def test_signed_out_visitors_are_sent_to_sign_in(client):
    for url in ("/requests/vendor-search/?q=a", "/approvals/approvers-preview/"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def form_query(**overrides):
    query = {
        "title": "Platform",
        "currency": "EUR",
        "billing": "one_off",
        "handles_personal_data": "unknown",
        "items-TOTAL_FORMS": "1",
        "items-INITIAL_FORMS": "0",
        "items-0-description": "Licence",
        "items-0-quantity": "1",
        "items-0-unit_price": "100",
    }
    query.update(overrides)
    return query


def test_approvers_preview_routes_the_unsaved_form(client, requester):
    cio = Group.objects.get(name=roles.CIO)
    ApprovalRule.objects.create(
        name="CIO above 25k", reviewer_group=cio, side="it", stage=2, min_total="25000"
    )
    client.force_login(requester)

    small = html(client.get("/approvals/approvers-preview/", form_query()))
    assert 'data-stage="1"' in small and 'data-stage="2"' not in small
    assert 'data-side="it"' in small and 'data-side="procurement"' in small

    # 2 years of annual billing at 15,000: 30,000 in all, above the CIO's threshold.
    big = html(
        client.get(
            "/approvals/approvers-preview/",
            form_query(billing="annual", term_months="24", **{"items-0-unit_price": "15000"}),
        )
    )
    stage_two = re.search(r'<li data-stage="2">.*?</li>', big, re.S).group()
    assert "nobody yet (CIO)</span>" in stage_two  # the role by its display name
    assert "CIO above 25k: total cost 30,000.00 EUR ≥ 25,000.00 EUR" in stage_two
    assert "a total of 30,000.00 EUR" in big


def test_approvers_preview_converts_other_currencies_and_marks_a_vendor_review(client, requester):
    ExchangeRate.objects.update_or_create(currency="USD", defaults={"rate_to_base": "0.5"})
    cio = Group.objects.get(name=roles.CIO)
    ApprovalRule.objects.create(
        name="CIO above 25k", reviewer_group=cio, side="it", stage=2, min_total="25000"
    )
    prospect = VendorFactory(name="New Co", status="prospective")
    client.force_login(requester)
    page = html(
        client.get(
            "/approvals/approvers-preview/",
            form_query(currency="USD", vendor=str(prospect.pk), **{"items-0-unit_price": "40000"}),
        )
    )
    assert 'data-stage="2"' not in page  # 40,000 USD is 20,000 EUR
    assert "data-vendor-review" in page
    assert ExchangeRate.to_base(Decimal("40000"), "USD") == Decimal("20000.00")


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"items-TOTAL_FORMS": "abc"},
        {"items-TOTAL_FORMS": "99999", "items-0-quantity": "-5"},
        {"vendor": "99999999", "category": "nope", "department": "x", "billing": "weekly"},
        {"term_months": "-3", "billing": "monthly", "items-0-unit_price": "1e400"},
        {"items-0-unit_price": "99999999999999999999", "items-0-quantity": "NaN"},
    ],
)
def test_approvers_preview_answers_bad_input_with_the_default_steps(client, requester, query):
    client.force_login(requester)
    response = client.get("/approvals/approvers-preview/", form_query(**query))
    assert response.status_code == 200
    assert 'data-side="it"' in html(response)


def test_approvers_preview_runs_a_fixed_number_of_queries(
    client, requester, django_assert_max_num_queries
):
    for index in range(20):
        ApprovalRule.objects.create(
            name=f"Rule {index}",
            reviewer_group=Group.objects.get(name=roles.FINANCE),
            side="finance",
            stage=3,
            min_total=str(1000 + index),
        )
    category = Category.objects.first()
    client.force_login(requester)
    query = form_query(category=str(category.pk), **{"items-0-unit_price": "5000"})
    client.get("/approvals/approvers-preview/", query)
    with django_assert_max_num_queries(12):
        page = html(client.get("/approvals/approvers-preview/", query))
    assert page.count("Rule ") == 20


def test_the_duplicate_warning_comes_in_two_parts(client, requester, other_requester):
    vendor = VendorFactory(name="Miro")
    same_title = PurchaseRequestFactory(
        requester=other_requester, title="Whiteboard seats", state="in_review", vendor=None
    )
    same_vendor = PurchaseRequestFactory(
        requester=other_requester, title="Retro tool", state="in_review", vendor=vendor
    )
    client.force_login(requester)
    query = {"title": "Whiteboard seats for design", "vendor": str(vendor.pk)}
    by_title = html(client.get("/requests/duplicates/", {**query, "part": "title"}))
    by_vendor = html(client.get("/requests/duplicates/", {**query, "part": "vendor"}))
    both = html(client.get("/requests/duplicates/", query))
    assert same_title.number in by_title and same_vendor.number not in by_title
    assert same_vendor.number in by_vendor and same_title.number not in by_vendor
    assert same_title.number in both and same_vendor.number in both
    assert 'id="duplicates-title"' in by_title and 'id="duplicates-vendor"' in by_vendor


def test_the_form_posts_itself_to_the_preview_however_long_its_texts(client, requester):
    """The page posts the form (a long description would not fit a URL); CSRF applies."""
    client.force_login(requester)
    data = form_query(description="x" * 20_000, **{"items-0-description": "y" * 300})
    page = html(client.post("/approvals/approvers-preview/", data))
    assert 'data-side="it"' in page and "a total of 100.00 EUR" in page

    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(requester)
    assert strict.post("/approvals/approvers-preview/", data).status_code == 403


@pytest.mark.parametrize("part", ["", "title", "vendor"])
def test_the_duplicate_check_takes_odd_titles(client, requester, part):
    client.force_login(requester)
    for title in ("a\x00b design", "\u202e" * 300, "%_%"):
        query = {"title": title, "vendor": "12", "part": part}
        assert client.get("/requests/duplicates/", query).status_code == 200


def test_among_many_vendors_the_form_lists_only_the_chosen_one(client, requester, monkeypatch):
    """Past VENDOR_LIST_LIMIT, "Existing vendor" lists only the vendor chosen (the search adds
    the one picked); any vendor that may be named still saves."""
    monkeypatch.setattr(intake_forms, "VENDOR_LIST_LIMIT", 2)
    figma, miro, zoom = (VendorFactory(name=name) for name in ("Figma", "Miro", "Zoom"))
    client.force_login(requester)
    page = html(client.get("/requests/new/"))
    assert not any(f">{v.name}</option>" in page for v in (figma, miro, zoom))
    assert "3 vendors are too many to list here" in page

    saved = client.post("/requests/new/", form_data(title="Whiteboards", vendor=zoom.pk, save="1"))
    draft = requester.purchase_requests.get(title="Whiteboards")
    assert saved.status_code == 302 and draft.vendor == zoom
    edit = html(client.get(f"/requests/{draft.pk}/edit/"))
    assert re.search(rf'<option value="{zoom.pk}"[^>]*selected[^>]*>Zoom</option>', edit)
    assert ">Miro</option>" not in edit

    for odd in ("abc", "²", "9" * 30, str(figma.pk + 1000)):
        refused = client.post("/requests/new/", form_data(vendor=odd, save="1"))
        assert refused.status_code == 200  # the form again, with the field's error
        assert "Select a valid choice" in html(refused)
