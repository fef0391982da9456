"""A corpus of bad input (SPEC §9): huge payloads, very long strings, control characters,
unicode and right-to-left text, zero, negative and absurd numbers, absurd dates, HTML and script
in every text field, formulas in cells of the CSV exports. Each either gets a clear error (400
with the field's error, or the form's error) with nothing saved, not even half of it, or is
stored as it was sent and shown safely (escaped) on every page and in every e-mail."""

import csv
import io
from datetime import date

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from approvals import services as approval_services
from audit.models import AuditEvent
from intake import services
from intake.models import Attachment, LineItem, PurchaseRequest
from tests.factories import CategoryFactory, PurchaseRequestFactory, UserFactory, VendorFactory
from tests.security.conftest import inline_script_in

pytestmark = pytest.mark.django_db

LIST = "/api/requests/"
NEW = "/requests/new/"
# Breaks out of an element, an attribute (either quote) and a URL, and runs script each way.
XSS = """<script>alert(1)</script><img src=x onerror=alert(2)>"'><svg onload=alert(3)>&amp;"""
RTL = "Лицензии 中文 עברית ‮gnp.exe 🚀 Zoë ﷺ"


def rows_saved():
    """Everything a filing writes: requests, their line items, their audit events."""
    return (
        PurchaseRequest.objects.count(),
        LineItem.objects.count(),
        AuditEvent.objects.count(),
    )


def form_data(**overrides):
    """The "New request" form, filled in validly, with `overrides`."""
    data = {
        "title": "Design tool seats",
        "description": "Seats for the design team.",
        "business_justification": "The team grew.",
        "expected_benefit": "Faster reviews.",
        "category": CategoryFactory().pk,
        "department": "",
        "needed_by": "2099-01-31",
        "currency": "EUR",
        "billing": "one_off",
        "term_months": "",
        "vendor": VendorFactory().pk,
        "proposed_vendor_name": "",
        "proposed_vendor_website": "",
        "data_classification": "internal",
        "handles_personal_data": "false",
        "integration_details": "",
        "items-TOTAL_FORMS": "1",
        "items-INITIAL_FORMS": "0",
        "items-0-description": "Seat",
        "items-0-quantity": "3",
        "items-0-unit_price": "150.00",
    }
    data.update(overrides)
    return data


# Refused with a clear error, nothing saved


REFUSED_BY_THE_API = [
    pytest.param({"title": "x" * 201}, "title", "no more than 200 characters", id="long title"),
    pytest.param({"title": "a\x00b"}, "title", "Null characters", id="NUL character"),
    pytest.param(
        {"title": "t", "proposed_vendor_website": "javascript:alert(1)"},
        "proposed_vendor_website",
        "valid URL",
        id="javascript: URL",
    ),
    pytest.param({"title": "t", "term_months": 0}, "term_months", "greater than", id="0 months"),
    pytest.param({"title": "t", "term_months": -3}, "term_months", "greater than", id="-3 months"),
    pytest.param(
        {"title": "t", "needed_by": "10000-01-01"}, "needed_by", "wrong format", id="year 10000"
    ),
    pytest.param({"title": "t", "currency": "€€€"}, "currency", "valid choice", id="currency"),
    *[
        pytest.param(
            {"title": "t", "line_items": [{"description": "d", **item}]},
            "line_items",
            message,
            id=label,
        )
        for label, item, message in [
            ("zero quantity", {"quantity": "0", "unit_price": "5"}, "greater than or equal"),
            ("negative quantity", {"quantity": "-1", "unit_price": "5"}, "greater than or equal"),
            ("zero price", {"quantity": "1", "unit_price": "0.00"}, "greater than or equal"),
            ("negative price", {"quantity": "1", "unit_price": "-0.01"}, "greater than or equal"),
            ("NaN", {"quantity": "NaN", "unit_price": "1"}, "valid number"),
            ("Infinity", {"quantity": "1", "unit_price": "Infinity"}, "valid number"),
            ("13 digits", {"quantity": "1", "unit_price": "1e13"}, "digits"),
            ("3 decimals", {"quantity": "1.005", "unit_price": "1"}, "decimal places"),
            ("no description", {"description": "", "quantity": "1", "unit_price": "1"}, "blank"),
            (
                "long description",
                {"description": "x" * 301, "quantity": "1", "unit_price": "1"},
                "300 characters",
            ),  # fmt: skip
        ]
    ],
    pytest.param(
        {
            "title": "t",
            "line_items": [
                {"description": "d", "quantity": "9999999999.99", "unit_price": "999999999999.99"}
            ],
        },
        "total_cost",
        "no more than 14 digits",
        id="total beyond 14 digits",
    ),
    pytest.param(
        {
            "title": "t",
            "billing": "monthly",
            "term_months": 32767,
            "line_items": [{"description": "d", "quantity": "1", "unit_price": "99999999999.99"}],
        },
        "total_cost",
        "no more than 14 digits",
        id="monthly total beyond 14 digits",
    ),
]


@pytest.mark.parametrize(("payload", "field", "message"), REFUSED_BY_THE_API)
def test_the_api_refuses_bad_input_with_the_fields_error_and_saves_nothing(
    api, requester, payload, field, message
):
    before = rows_saved()
    response = api.as_user(requester).post(LIST, payload, format="json")
    assert response.status_code == 400, response.content[:300]
    assert field in response.json()
    assert message in str(response.json()[field])
    assert rows_saved() == before


def test_the_api_refuses_a_lone_surrogate(api, requester):
    """JSON can carry "\\ud800", which no database can store as text."""
    before = rows_saved()
    response = api.as_user(requester).post(
        LIST, '{"title": "a\\ud800b"}', content_type="application/json"
    )
    assert response.status_code == 400
    assert "Surrogate characters" in str(response.json()["title"])
    assert rows_saved() == before


@pytest.mark.parametrize("field", ["question", "option"])
def test_the_api_refuses_an_id_beyond_64_bits(api, admin_user, field):
    """Found by fuzzing (tests/security/test_schemathesis.py with TANDEM_FUZZ_EXAMPLES=100)."""
    from vendors.models import AnswerOption, Vendor

    vendor = VendorFactory()
    option = AnswerOption.objects.select_related("question").first()
    answer = {"question": option.question_id, "option": option.pk, field: 2**65}
    response = api.as_user(admin_user).post(
        f"/api/vendors/{vendor.pk}/questionnaire/", {"answers": [answer]}, format="json"
    )
    assert response.status_code == 400
    assert not Vendor.objects.get(pk=vendor.pk).answers.exists()


def test_the_api_refuses_a_body_over_the_upload_limit(api, requester):
    before = rows_saved()
    response = api.as_user(requester).post(
        LIST, {"title": "t", "description": "x" * (13 * 1024 * 1024)}, format="json"
    )
    assert response.status_code == 400
    assert rows_saved() == before


def test_a_bad_change_to_a_draft_leaves_it_as_it_was(api, requester):
    draft = PurchaseRequestFactory(requester=requester, title="Kept")
    items = list(draft.line_items.values_list("description", "quantity", "unit_price"))
    response = api.as_user(requester).patch(
        f"{LIST}{draft.pk}/",
        {
            "title": "Changed",
            "line_items": [
                {"description": "fine", "quantity": "1", "unit_price": "1"},
                {"description": "bad", "quantity": "-1", "unit_price": "1"},
            ],
        },
        format="json",
    )
    assert response.status_code == 400
    draft.refresh_from_db()
    assert draft.title == "Kept"
    assert list(draft.line_items.values_list("description", "quantity", "unit_price")) == items


REFUSED_BY_THE_FORM = [
    pytest.param({"title": "x" * 201}, "at most 200 characters", id="long title"),
    pytest.param({"title": "a\x00b"}, "Null characters are not allowed", id="NUL character"),
    pytest.param({"description": "x\x00"}, "Null characters are not allowed", id="NUL text"),
    pytest.param(
        {"proposed_vendor_website": "javascript:alert(1)"}, "Enter a valid URL", id="js URL"
    ),
    pytest.param({"needed_by": "0000-01-01"}, "Enter a valid date", id="year 0"),
    pytest.param({"needed_by": "10000-01-01"}, "Enter a valid date", id="year 10000"),
    pytest.param({"term_months": "-1"}, "greater than or equal to", id="negative term"),
    pytest.param({"items-0-quantity": "0"}, "greater than or equal to 0.01", id="zero quantity"),
    pytest.param({"items-0-quantity": "-2"}, "greater than or equal to 0.01", id="neg quantity"),
    pytest.param({"items-0-unit_price": "-5"}, "greater than or equal to 0.01", id="neg price"),
    pytest.param({"items-0-unit_price": "NaN"}, "Enter a number", id="NaN price"),
    pytest.param({"items-0-unit_price": "1e20"}, "digits in total", id="huge price"),
    pytest.param(
        {"items-TOTAL_FORMS": "100000000"}, "Please submit at most 100 forms", id="forged rows"
    ),
]


@pytest.mark.parametrize(("overrides", "message"), REFUSED_BY_THE_FORM)
def test_the_form_refuses_bad_input_with_the_fields_error_and_saves_nothing(
    client, requester, overrides, message
):
    client.force_login(requester)
    data = form_data(**overrides)
    before = rows_saved()
    response = client.post(NEW, data)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Nothing was saved yet" in page
    assert message in page
    assert rows_saved() == before
    assert inline_script_in(page) == []


def test_a_comment_too_long_or_empty_is_refused_and_not_saved(client, api, requester):
    purchase_request = PurchaseRequestFactory(requester=requester)
    client.force_login(requester)
    for body in ("x" * 10_001, "   ", "\x00"):
        response = client.post(f"/requests/{purchase_request.pk}/comments/", {"body": body})
        assert response.status_code == 302
        response = api.as_user(requester).post(
            f"{LIST}{purchase_request.pk}/comments/", {"body": body}, format="json"
        )
        assert response.status_code == 400
    assert not purchase_request.comments.exists()


# Stored as sent, shown safely


def test_unicode_and_right_to_left_text_is_stored_exactly_and_shown(client, requester):
    client.force_login(requester)
    response = client.post(
        NEW, form_data(title=RTL, description=RTL * 3, **{"items-0-description": RTL})
    )
    assert response.status_code == 302
    purchase_request = PurchaseRequest.objects.get()
    assert purchase_request.title == RTL
    assert purchase_request.line_items.get().description == RTL
    page = client.get(purchase_request.get_absolute_url()).content.decode()
    assert page.count(RTL) >= 3  # title, description, line item
    listing = client.get("/requests/").content.decode()
    assert RTL in listing


def test_a_long_text_is_stored_whole_and_shown(client, api, requester):
    description = ("Long but allowed. " * 50_000).strip()  # 900 kB
    response = api.as_user(requester).post(
        LIST, {"title": "Long", "description": description}, format="json"
    )
    assert response.status_code == 201
    purchase_request = PurchaseRequest.objects.get(pk=response.json()["id"])
    assert purchase_request.description == description
    client.force_login(requester)
    page = client.get(purchase_request.get_absolute_url())
    assert page.status_code == 200
    assert description in page.content.decode()


def test_a_thousand_line_items_are_stored_and_shown_with_the_right_total(client, api, requester):
    items = [
        {"description": f"Item {i}", "quantity": "1", "unit_price": "0.01"} for i in range(1000)
    ]
    response = api.as_user(requester).post(
        LIST, {"title": "Many items", "line_items": items}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["total_cost"] == "10.00"
    client.force_login(requester)
    page = client.get(f"/requests/{response.json()['id']}/").content.decode()
    assert "10.00 EUR" in page


@pytest.mark.parametrize("needed_by", ["0001-01-01", "9999-12-31"])
def test_absurd_but_valid_dates_are_stored_and_shown(client, api, requester, needed_by):
    response = api.as_user(requester).post(
        LIST, {"title": "Odd date", "needed_by": needed_by}, format="json"
    )
    assert response.status_code == 201
    purchase_request = PurchaseRequest.objects.get(pk=response.json()["id"])
    assert purchase_request.needed_by == date.fromisoformat(needed_by)
    client.force_login(requester)
    for path in (
        purchase_request.get_absolute_url(),
        "/requests/",
        f"{LIST}{purchase_request.pk}/",
    ):
        assert client.get(path).status_code == 200, path


def test_absurd_dates_when_ordering_and_closing_are_stored_and_shown(client, api, procurement):
    purchase_request = PurchaseRequestFactory(state="approved")
    api.as_user(procurement)
    response = api.post(
        f"{LIST}{purchase_request.pk}/mark-ordered/",
        {"po_number": "PO-1", "ordered_on": "0001-01-01"},
        format="json",
    )
    assert response.status_code == 200
    response = api.post(
        f"{LIST}{purchase_request.pk}/close/", {"received_on": "9999-12-31"}, format="json"
    )
    assert response.status_code == 200
    client.force_login(procurement)
    page = client.get(purchase_request.get_absolute_url())
    assert page.status_code == 200
    assert "31 Dec 9999" in page.content.decode()  # one format for every date


@pytest.mark.parametrize(
    ("time_zone", "starts_at", "ends_at"),
    [
        pytest.param("America/Los_Angeles", "2030-01-01T09:00", "9999-12-31T23:00", id="9999"),
        pytest.param("Asia/Tokyo", "0001-01-01T00:00", "2030-01-01T09:00", id="year 1"),
    ],
)
def test_an_out_of_office_window_at_the_ends_of_the_calendar_is_refused_or_shown(
    client, requester, time_zone, starts_at, ends_at
):
    """Local times that fall outside the years 1 to 9999 once converted to UTC."""
    requester.time_zone = time_zone
    requester.save()
    colleague = UserFactory(username="colin")
    client.force_login(requester)
    response = client.post(
        "/accounts/out-of-office/",
        {"delegate": colleague.pk, "starts_at": starts_at, "ends_at": ends_at},
    )
    if response.status_code == 302:  # stored: then shown
        assert client.get("/accounts/out-of-office/").status_code == 200
    else:
        page = response.content.decode()
        assert response.status_code == 200
        assert "invalid-feedback" in page or "alert-danger" in page


def test_an_upload_named_to_mislead_is_stored_under_a_safe_name_and_served_as_a_download(
    client, requester, settings
):
    from tests.security.test_permission_matrix import PNG

    draft = PurchaseRequestFactory(requester=requester)
    client.force_login(requester)
    name = "../../../etc/Angebot ‮fdp.exe.png"  # shown right to left: "Angebot gnp.exe.pdf"
    response = client.post(
        f"/requests/{draft.pk}/attachments/",
        {"attachments": SimpleUploadedFile(name, PNG, content_type="image/png")},
    )
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    stored = (settings.MEDIA_ROOT / attachment.file.name).resolve()
    assert stored.is_relative_to(settings.MEDIA_ROOT.resolve())
    assert "/" not in attachment.original_name
    download = client.get(f"/requests/{draft.pk}/attachments/{attachment.pk}/")
    disposition = download["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "\n" not in disposition and "\r" not in disposition
    assert "etc" not in disposition
    page = client.get(draft.get_absolute_url()).content.decode()
    assert inline_script_in(page) == []


# HTML and script in every text field


TEXT_FIELDS = [
    "title",
    "description",
    "business_justification",
    "expected_benefit",
    "proposed_vendor_name",
    "integration_details",
]


@pytest.fixture
def poisoned(requester, it_reviewer, procurement, django_capture_on_commit_callbacks):
    """A request, its vendor and everything said about it carrying markup in every text field,
    with the e-mails its submission and decisions sent."""
    vendor = VendorFactory(
        name=f"{XSS} vendor",
        legal_name=f"{XSS} legal",
        website="https://vendor.example/?q=%3Cscript%3E",
        contact_name=f"{XSS} contact",
        country="DE",
    )
    purchase_request = PurchaseRequestFactory(
        requester=requester,
        vendor=vendor,
        integrates_with_systems=True,
        line_items=[(f"{XSS} item", "1", "10.00")],
        **{field: f"{XSS} {field}" for field in TEXT_FIELDS},
    )
    requester.first_name, requester.last_name = f"{XSS} Rita", "Q"
    requester.save()
    with django_capture_on_commit_callbacks(execute=True):
        services.submit_request(purchase_request, by=requester)
    with django_capture_on_commit_callbacks(execute=True):
        services.add_comment(purchase_request, by=requester, body=f"{XSS} comment")
    step = purchase_request.steps.get(side="procurement")
    with django_capture_on_commit_callbacks(execute=True):
        approval_services.decide_step(
            step, by=procurement, decision="request_changes", comment=f"{XSS} decision"
        )
    return purchase_request


def assert_shown_safely(page: str, where: str):
    assert "<script>alert" not in page, where
    assert "onerror=alert" not in page.replace("onerror=alert(2)&gt;", ""), where
    assert inline_script_in(page) == [], where


def test_markup_in_every_text_field_is_escaped_on_every_page(
    client, poisoned, requester, it_reviewer, procurement, cio, admin_user
):
    pr = poisoned
    views = {
        requester: [pr.get_absolute_url(), f"/requests/{pr.pk}/edit/", "/requests/"],
        it_reviewer: [pr.get_absolute_url(), "/approvals/", "/notifications/"],
        procurement: [
            pr.get_absolute_url(),
            "/vendors/",
            f"/vendors/{pr.vendor_id}/",
            f"/vendors/{pr.vendor_id}/edit/",
        ],
        cio: ["/approvals/", "/insights/", f"/requests/duplicates/?title={XSS}"],
        admin_user: [
            f"/admin/intake/purchaserequest/{pr.pk}/change/",
            "/admin/audit/auditevent/",
            f"/approvals/rules/preview/?request={pr.pk}",
        ],
    }
    shown = 0
    for user, paths in views.items():
        client.force_login(user)
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, path
            page = response.content.decode()
            assert_shown_safely(page, f"{user.username} {path}")
            shown += page.count("&lt;script&gt;alert(1)&lt;/script&gt;")
    assert shown > 20, "the poisoned text is shown (escaped), not dropped"
    client.force_login(requester)
    detail = client.get(pr.get_absolute_url()).content.decode()
    edit = client.get(f"/requests/{pr.pk}/edit/").content.decode()
    for field in TEXT_FIELDS:
        assert f"&lt;svg onload=alert(3)&gt;&amp;amp; {field}" in edit, field
    for text in ("title", "description", "comment", "decision", "item", "vendor"):
        assert f"&lt;svg onload=alert(3)&gt;&amp;amp; {text}" in detail, text


def test_markup_in_every_text_field_is_escaped_in_e_mails(poisoned):
    messages = mail.outbox
    assert messages, "submitting and deciding sent e-mails"
    for message in messages:
        for html, kind in message.alternatives:
            assert kind == "text/html"
            assert_shown_safely(html, f"e-mail “{message.subject}”")
        assert "\n" not in message.subject
    # The plain-text part is text: the words arrive as they were written.
    assert any(f"{XSS} title" in message.body for message in messages)


def test_the_api_returns_markup_as_json_text_not_html(api, poisoned, requester):
    response = api.as_user(requester).get(f"{LIST}{poisoned.pk}/")
    assert response["Content-Type"] == "application/json"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response.json()["title"] == f"{XSS} title"


# Formula cells in the CSV exports

FORMULAS = ['=HYPERLINK("https://evil.example","open")', "+1+1", "-2+3", "@SUM(A1)", "\t=1"]


@pytest.mark.parametrize(
    "path",
    ["/insights/export/requests.csv", "/insights/export/audit.csv"],
    ids=["requests", "audit"],
)
def test_csv_exports_neutralise_formula_cells(client, requester, cio, path):
    for formula in FORMULAS:
        purchase_request = PurchaseRequestFactory(
            requester=requester, title=formula, description=formula
        )
        services.add_comment(purchase_request, by=requester, body=formula)
        services.update_request(purchase_request, by=requester, fields={"title": formula})
    client.force_login(cio)
    response = client.get(path)
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    found = [cell for cell in cells if any(f in cell for f in FORMULAS)]
    assert found, "the formulas are in the export"
    for cell in found:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), repr(cell)
    assert f"'{FORMULAS[0]}" in cells or path.endswith("audit.csv")
