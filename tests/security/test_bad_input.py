"""A corpus of bad input (SPEC §9): huge payloads, very long strings, control characters,
unicode and right-to-left text, zero, negative and absurd numbers, absurd dates, HTML and script
in every text field, formulas in cells of the CSV exports. Each either gets a clear error (400
with the field's error, or the form's error) with nothing saved, not even half of it, or is
stored as it was sent and shown safely (escaped) on every page and in every e-mail."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from approvals import services as approval_services
from approvals import workflow
from audit.models import AuditEvent
from intake import services
from intake.models import Attachment, LineItem, PurchaseRequest
from tests.factories import CategoryFactory, PurchaseRequestFactory, UserFactory, VendorFactory
from tests.security.conftest import inline_script_in

pytestmark = pytest.mark.django_db

LIST = "/api/requests/"
NEW = "/requests/new/"
SIGN_IN_PAGE = "/accounts/login/"
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
    *[
        pytest.param(
            {"title": "t", "currency": code}, "currency", "ISO 4217", id=f"currency {code}"
        )
        for code in ["€€€", "XYZ", "eur", "EURO", "BGN", ""]
    ],
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
            ("huge quantity", {"quantity": "9999999999.99", "unit_price": "1"}, "less than"),
            ("huge price", {"quantity": "1", "unit_price": "999999999999.99"}, "less than"),
            (
                "line break",
                {"description": "a\r\nb", "quantity": "1", "unit_price": "1"},
                "one line",
            ),
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
            "line_items": [{"description": "d", "quantity": "1000000", "unit_price": "1000000000"}],
        },
        "total_cost",
        "no more than 14 digits",
        id="total beyond 14 digits",
    ),
    pytest.param(
        {
            "title": "t",
            "billing": "monthly",
            "term_months": 120,
            "line_items": [{"description": "d", "quantity": "1000000", "unit_price": "10000"}],
        },
        "total_cost",
        "no more than 14 digits",
        id="monthly total beyond 14 digits",
    ),
    # The case: each bound refuses its own field before any total is computed.
    *[
        pytest.param(
            {
                "title": "t",
                "billing": billing,
                "term_months": 32767,
                "line_items": [
                    {
                        "description": "d",
                        "quantity": "9999999999.99",
                        "unit_price": "999999999999.99",
                    }
                ],
            },
            "term_months",
            "less than or equal to 120",
            id=f"{billing} term of 32767 months and huge items",
        )
        for billing in ["monthly", "annual", "one_off"]
    ],
    pytest.param({"title": "t", "term_months": 121}, "term_months", "120", id="121 months"),
    pytest.param({"title": "t", "term_months": 2**40}, "term_months", "", id="2**40 months"),
    pytest.param(
        {
            "title": "t",
            "line_items": [{"description": "d", "quantity": "1", "unit_price": "1"}] * 101,
        },
        "line_items",
        "no more than 100",
        id="101 line items",
    ),
    *[
        pytest.param({"title": "t", "needed_by": day}, "needed_by", "between 1900", id=day)
        for day in ["0001-01-01", "1899-12-31", "2200-01-01", "9999-12-31"]
    ],
    *[
        pytest.param({field: f"a{char}b"}, field, "one line", id=f"{field} {char!r}")
        for field in ["title", "proposed_vendor_name"]
        for char in ["\r\n", "\n", "\r", "\t", "\x0b", "\x1b", "\x85", "\u2028", "\u2029"]
    ],
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


def test_the_api_refuses_a_body_over_the_limit_with_413(api, requester):
    before = rows_saved()
    response = api.as_user(requester).post(
        LIST, {"title": "t", "description": "x" * (13 * 1024 * 1024)}, format="json"
    )
    assert response.status_code == 413
    assert "at most 12.0\xa0MB" in response.json()["detail"]
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
    pytest.param({"items-TOTAL_FORMS": "101"}, "Please submit at most 100 forms", id="101 rows"),
    pytest.param({"term_months": "121"}, "less than or equal to 120", id="121 months"),
    pytest.param({"term_months": "32767"}, "less than or equal to 120", id="32767 months"),
    pytest.param({"items-0-quantity": "9999999999.99"}, "less than or equal to", id="huge qty"),
    pytest.param({"items-0-unit_price": "999999999999.99"}, "less than or equal to", id="huge"),
    pytest.param(
        {
            "billing": "monthly",
            "term_months": "120",
            "items-0-quantity": "1000000",
            "items-0-unit_price": "1000000000",
        },
        "Total cost: Ensure that there are no more than 14 digits",
        id="total beyond 14 digits",
    ),
    pytest.param({"needed_by": "9999-12-31"}, "between 1900-01-01 and 2199-12-31", id="9999"),
    pytest.param({"currency": "XYZ"}, "Select a valid choice", id="currency XYZ"),
    *[
        pytest.param({field: f"a{char}b"}, "Keep this to one line", id=f"{field} {char!r}")
        for field in ["title", "proposed_vendor_name", "items-0-description"]
        for char in ["\r\n", "\n", "\t", "\x0b", "\u2028"]
    ],
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


def test_a_hundred_line_items_are_stored_and_shown_with_the_right_total(client, api, requester):
    items = [
        {"description": f"Item {i}", "quantity": "1", "unit_price": "0.10"} for i in range(100)
    ]
    response = api.as_user(requester).post(
        LIST, {"title": "Many items", "line_items": items}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["total_cost"] == "10.00"
    client.force_login(requester)
    page = client.get(f"/requests/{response.json()['id']}/").content.decode()
    assert "10.00 EUR" in page


@pytest.mark.parametrize("needed_by", ["1900-01-01", "2199-12-31"])
def test_dates_at_the_ends_of_the_range_are_stored_and_shown(client, api, requester, needed_by):
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


def test_dates_when_ordering_and_closing_are_bounded_stored_and_shown(client, api, procurement):
    purchase_request = PurchaseRequestFactory(state="approved")
    api.as_user(procurement)
    url = f"{LIST}{purchase_request.pk}"
    for payload in [
        {"po_number": "PO-1", "ordered_on": "0001-01-01"},
        {"po_number": "PO-1", "ordered_on": "9999-12-31"},
    ]:
        response = api.post(f"{url}/mark-ordered/", payload, format="json")
        assert response.status_code == 400
        assert "between 1900" in str(response.json()["ordered_on"])
    response = api.post(f"{url}/mark-ordered/", {"po_number": "PO\r\nBcc: x"}, format="json")
    assert response.status_code == 400
    assert "one line" in str(response.json()["po_number"])
    response = api.post(
        f"{url}/mark-ordered/", {"po_number": "PO-1", "ordered_on": "1900-01-01"}, format="json"
    )
    assert response.status_code == 200
    response = api.post(f"{url}/close/", {"received_on": "9999-12-31"}, format="json")
    assert response.status_code == 400
    assert "between 1900" in str(response.json()["received_on"])
    response = api.post(f"{url}/close/", {"received_on": "2199-12-31"}, format="json")
    assert response.status_code == 200
    client.force_login(procurement)
    page = client.get(purchase_request.get_absolute_url())
    assert page.status_code == 200
    assert "31 Dec 2199" in page.content.decode()  # one format for every date


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
        workflow.submit_request(purchase_request, by=requester)
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
        # A title is one line: the tab-led formula goes in the description and comment only.
        title = formula.lstrip("\t")
        services.update_request(purchase_request, by=requester, fields={"title": title})
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


# Out-of-range dates in filters: 400 naming the parameter, never an OverflowError

BAD_DAYS = ["0001-01-01", "1899-12-31", "2200-01-01", "9999-12-31"]
DATE_FILTERED_API = ["/api/metrics/", "/api/export/requests.csv", "/api/export/audit.csv"]
DATE_FILTERED_EXPORTS = ["/insights/export/requests.csv", "/insights/export/audit.csv"]


@pytest.mark.parametrize("day", BAD_DAYS)
@pytest.mark.parametrize("param", ["from", "to"])
@pytest.mark.parametrize("path", DATE_FILTERED_API)
def test_the_api_refuses_out_of_range_filter_dates_naming_the_parameter(api, cio, path, param, day):
    response = api.as_user(cio).get(path, {param: day})
    assert response.status_code == 400
    assert "between 1900-01-01 and 2199-12-31" in str(response.json()[param])


@pytest.mark.parametrize("day", [*BAD_DAYS, "10000-01-01", "2026-02-30"])
@pytest.mark.parametrize("param", ["from", "to"])
@pytest.mark.parametrize("path", DATE_FILTERED_EXPORTS)
def test_the_exports_refuse_out_of_range_filter_dates_naming_the_parameter(
    client, cio, path, param, day
):
    client.force_login(cio)
    response = client.get(path, {param: day})
    assert response.status_code == 400
    assert response.content.decode().startswith(f"{param}: ")


@pytest.mark.parametrize("day", BAD_DAYS)
@pytest.mark.parametrize("param", ["from", "to"])
def test_the_dashboard_shows_an_out_of_range_filter_date_as_a_form_error(client, cio, param, day):
    client.force_login(cio)
    response = client.get("/insights/", {param: day})
    assert response.status_code == 200
    assert "between 1900-01-01 and 2199-12-31" in response.content.decode()


@pytest.mark.parametrize("path", [*DATE_FILTERED_API, *DATE_FILTERED_EXPORTS, "/insights/"])
def test_filter_dates_at_the_ends_of_the_range_are_answered(client, cio, path):
    client.force_login(cio)
    response = client.get(path, {"from": "1900-01-01", "to": "2199-12-31"})
    assert response.status_code == 200


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


# Amounts, quantities and terms: bounded on POST, PATCH and the form; totals only after that


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"term_months": 32767, "billing": "monthly"}, "term_months"),
        ({"term_months": 121}, "term_months"),
        ({"currency": "XYZ"}, "currency"),
        ({"needed_by": "9999-12-31"}, "needed_by"),
        ({"title": "Laptops\r\nBcc: someone@example.com"}, "title"),
        (
            {"line_items": [{"description": "d", "quantity": "1", "unit_price": "1"}] * 101},
            "line_items",
        ),
        (
            {"line_items": [{"description": "d", "quantity": "9999999999.99", "unit_price": "1"}]},
            "line_items",
        ),
    ],
)
def test_a_patch_out_of_bounds_is_400_naming_the_field_and_changes_nothing(
    api, requester, change, field
):
    draft = PurchaseRequestFactory(requester=requester, title="Kept")
    response = api.as_user(requester).patch(f"{LIST}{draft.pk}/", change, format="json")
    assert response.status_code == 400, response.content[:300]
    assert field in response.json()
    draft.refresh_from_db()
    assert draft.title == "Kept"
    assert draft.line_items.count() == 1


def test_a_patch_that_makes_the_total_too_large_is_400_on_the_total(api, requester):
    response = api.as_user(requester).post(
        LIST,
        {
            "title": "Big",
            "line_items": [{"description": "d", "quantity": "1000000", "unit_price": "100000"}],
        },
        format="json",
    )
    assert response.status_code == 201  # 100,000,000,000.00 once
    pk = response.json()["id"]
    response = api.patch(f"{LIST}{pk}/", {"billing": "monthly", "term_months": 120}, format="json")
    assert response.status_code == 400
    assert "no more than 14 digits" in str(response.json()["total_cost"])
    assert PurchaseRequest.objects.get(pk=pk).billing == "one_off"


def test_submitting_a_total_too_large_in_the_base_currency_is_400_on_the_total(api, requester):
    from intake.models import ExchangeRate

    rate = ExchangeRate.objects.get(currency="USD")
    draft = PurchaseRequestFactory(requester=requester, currency="USD")
    response = api.as_user(requester).patch(
        f"{LIST}{draft.pk}/",
        {"line_items": [{"description": "d", "quantity": "1000", "unit_price": "900000000"}]},
        format="json",
    )
    assert response.status_code == 200  # 900,000,000,000.00 USD
    rate.rate_to_base = Decimal("5")
    rate.save()
    response = api.post(f"{LIST}{draft.pk}/submit/")
    assert response.status_code == 400
    assert "no more than 14 digits" in str(response.json()["total_cost"])
    draft.refresh_from_db()
    assert draft.state == "draft"


def test_the_form_shows_a_total_too_large_as_an_error_and_saves_nothing(client, requester):
    """The total is computed by the service after the form's checks: its error lands on the
    form, not in a 500."""
    client.force_login(requester)
    before = rows_saved()
    response = client.post(
        NEW,
        form_data(
            billing="annual",
            term_months="120",
            **{"items-0-quantity": "1000000", "items-0-unit_price": "1000000000"},
        ),
    )
    assert response.status_code == 200
    assert "Total cost: Ensure that there are no more than 14 digits" in response.content.decode()
    assert rows_saved() == before


# One-line fields of vendors, contracts, certificates and rules

LINE_BREAKERS = ["\r\n", "\n", "\r", "\t", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\u2028"]


@pytest.mark.parametrize("char", LINE_BREAKERS, ids=repr)
@pytest.mark.parametrize("field", ["name", "legal_name", "contact_name", "esg_rating"])
def test_the_api_refuses_control_characters_in_a_vendors_one_line_fields(
    api, procurement, field, char
):
    from vendors.models import Vendor

    payload = {"name": "Acme", field: f"Acme{char}Bcc: x@example.com"}
    response = api.as_user(procurement).post("/api/vendors/", payload, format="json")
    assert response.status_code == 400
    assert "one line" in str(response.json()[field])
    assert not Vendor.objects.exists()


@pytest.mark.parametrize("char", LINE_BREAKERS, ids=repr)
def test_the_api_refuses_control_characters_in_contract_titles_and_certificate_issuers(
    api, procurement, char
):
    vendor = VendorFactory()
    api.as_user(procurement)
    response = api.post(
        f"/api/vendors/{vendor.pk}/contracts/",
        {
            "title": f"Licence{char}renewal",
            "starts_on": "2026-01-01",
            "ends_on": "2027-01-01",
            "annual_value": "100",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "one line" in str(response.json()["title"])
    response = api.post(
        f"/api/vendors/{vendor.pk}/certificates/",
        {
            "kind": "iso27001",
            "issuer": f"Auditors{char}Ltd",
            "issued_on": "2026-01-01",
            "expires_on": "2027-01-01",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "one line" in str(response.json()["issuer"])
    assert not vendor.contracts.exists() and not vendor.certificates.exists()


def test_the_vendor_form_refuses_a_name_with_a_line_break(client, procurement):
    client.force_login(procurement)
    response = client.post(
        "/vendors/new/", {"name": "Acme\r\nBcc: x@example.com", "website": "", "country": ""}
    )
    assert response.status_code == 200
    assert "Keep this to one line" in response.content.decode()


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"title": "c", "starts_on": "0001-01-01", "ends_on": "0001-01-02"}, "starts_on", "1900"),
        ({"title": "c", "starts_on": "2026-01-01", "ends_on": "9999-12-31"}, "ends_on", "2199"),
        ({"title": "c", "notice_days": 32767}, "notice_days", "3650"),
        ({"title": "c", "annual_value": "1e15"}, "annual_value", "digits"),
        ({"title": "c", "currency": "XYZ"}, "currency", "ISO 4217"),
        ({"title": "c", "currency": "eur"}, "currency", "ISO 4217"),
        ({"title": "c", "currency": "BGN"}, "currency", "ISO 4217"),
    ],
)
def test_the_api_refuses_contracts_out_of_bounds_naming_the_field(
    api, procurement, payload, field, message
):
    vendor = VendorFactory()
    contract = {"starts_on": "2026-01-01", "ends_on": "2027-01-01", "annual_value": "100"}
    response = api.as_user(procurement).post(
        f"/api/vendors/{vendor.pk}/contracts/", {**contract, **payload}, format="json"
    )
    assert response.status_code == 400, response.content[:300]
    assert message in str(response.json()[field])
    assert not vendor.contracts.exists()


@pytest.mark.parametrize("currency", ["JPY", "USD", "CHF", "INR", "XOF"])
def test_iso_4217_currencies_in_use_are_accepted_for_contracts_and_requests(
    api, procurement, requester, currency
):
    vendor = VendorFactory()
    response = api.as_user(procurement).post(
        f"/api/vendors/{vendor.pk}/contracts/",
        {
            "title": "Licence",
            "starts_on": "2026-01-01",
            "ends_on": "2027-01-01",
            "annual_value": "100",
            "currency": currency,
        },
        format="json",
    )
    assert response.status_code == 201, response.content[:300]
    response = api.as_user(requester).post(
        LIST, {"title": "t", "currency": currency}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["currency"] == currency


def test_the_certificate_dates_are_bounded(api, procurement):
    vendor = VendorFactory()
    response = api.as_user(procurement).post(
        f"/api/vendors/{vendor.pk}/certificates/",
        {"kind": "iso27001", "issuer": "A", "issued_on": "0001-01-01", "expires_on": "0001-01-02"},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"issued_on", "expires_on"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "Rule\r\nname"}, "name"),
        ({"sla_hours": 2**31 - 1}, "sla_hours"),
        ({"repeat_every_hours": 10**6}, "repeat_every_hours"),
        ({"escalate_after_hours": 2**40}, "escalate_after_hours"),
        ({"stage": 32767}, "stage"),
    ],
)
def test_the_api_refuses_rules_out_of_bounds(api, admin_user, change, field):
    payload = {"name": "Bounded", "side": "it", "reviewer_group": "cio", **change}
    response = api.as_user(admin_user).post("/api/rules/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()


# No user text makes a notification undeliverable


def test_a_title_with_a_line_break_stored_before_still_reaches_the_reviewers(
    requester, it_reviewer, procurement, django_capture_on_commit_callbacks
):
    from notifications.models import Channel, Notification, Status

    purchase_request = PurchaseRequestFactory(requester=requester)
    # Stored before titles were one line (the database does not stop it).
    PurchaseRequest.objects.filter(pk=purchase_request.pk).update(
        title="Laptops\r\nBcc: evil@example.com\x0b\u2028"
    )
    purchase_request.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        workflow.submit_request(purchase_request, by=requester)
    emails = Notification.objects.filter(channel=Channel.EMAIL)
    assert emails.exists()
    assert set(emails.values_list("status", flat=True)) == {Status.SENT}
    assert mail.outbox
    for message in mail.outbox:
        assert "\n" not in message.subject and "\r" not in message.subject
        assert "Laptops Bcc: evil@example.com" in message.subject
        assert message.to in ([it_reviewer.email], [procurement.email])


def test_an_outbox_row_with_a_broken_subject_is_delivered(requester):
    from notifications import services as notification_services
    from notifications.models import Channel, Notification, Status

    row = Notification.objects.create(
        recipient=requester,
        channel=Channel.EMAIL,
        subject="Contract\r\nrenews\x0bsoon",
        body="Text",
        url="/",
    )
    assert notification_services.deliver(row.pk) is True
    row.refresh_from_db()
    assert row.status == Status.SENT
    assert mail.outbox[-1].subject == "Contract renews soon"


def test_a_comment_on_several_lines_is_kept_and_the_e_mails_still_go(
    api, requester, it_reviewer, procurement, django_capture_on_commit_callbacks
):
    """Comments are text on several lines; in a subject they are one line."""
    purchase_request = workflow.submit_request(
        PurchaseRequestFactory(requester=requester), by=requester
    )
    step = purchase_request.steps.get(side="procurement")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = api.as_user(procurement).post(
            f"/api/steps/{step.pk}/request-changes/",
            {"comment": "Line one\r\nSubject: injected\n\nLine three"},
            format="json",
        )
    assert response.status_code == 200
    assert mail.outbox, "the requester was told"
    assert "Subject: injected" in mail.outbox[-1].body
    assert "\n" not in mail.outbox[-1].subject


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


# Forged page positions: a due time the database cannot compare with starts over (pages) or
# is an invalid cursor (API), never an OverflowError

FORGED_MOMENTS = [
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59.999999",
    "2026-13-01T00:00:00",
    "garbage",
]


@pytest.mark.parametrize("moment", FORGED_MOMENTS)
def test_a_forged_page_position_on_waiting_for_me_starts_from_the_first_page(
    client, requester, it_reviewer, moment
):
    purchase_request = workflow.submit_request(
        PurchaseRequestFactory(requester=requester), by=requester
    )
    client.force_login(it_reviewer)
    for param in ("after", "team_after"):
        response = client.get("/approvals/", {param: f"{moment}_1"})
        assert response.status_code == 200
    assert purchase_request.number in response.content.decode()


@pytest.mark.parametrize("moment", FORGED_MOMENTS)
def test_a_forged_awaiting_me_cursor_is_404_invalid_cursor(api, requester, it_reviewer, moment):
    import base64
    from urllib.parse import quote

    workflow.submit_request(PurchaseRequestFactory(requester=requester), by=requester)
    for extra in ("", "&r=1", "&o=99999999999999999999"):
        cursor = base64.b64encode(f"p={quote(moment)}{extra}".encode()).decode()
        response = api.as_user(it_reviewer).get(LIST, {"awaiting": "me", "cursor": cursor})
        assert response.status_code == 404
        assert response.json() == {"detail": "Invalid cursor"}


@pytest.mark.parametrize(
    "params",
    [
        {"title": "a\x00b"},
        {"title": "x" * 5000},
        {"vendor": "²"},
        {"exclude": "²"},
        {"vendor": str(2**70), "exclude": str(2**70)},
        {"vendor": "-1", "exclude": "abc"},
    ],
)
def test_the_duplicate_check_leaves_out_what_is_not_valid(client, requester, params):
    client.force_login(requester)
    response = client.get("/requests/duplicates/", params)
    assert response.status_code == 200


@pytest.mark.parametrize("requests", [["²"], [str(2**70)], ["-1"], ["x"]])
def test_the_contract_form_refuses_ids_that_are_no_ids(client, procurement, requests):
    vendor = VendorFactory()
    client.force_login(procurement)
    response = client.post(
        f"/vendors/{vendor.pk}/contracts/",
        {
            "title": "Licence",
            "starts_on": "2026-01-01",
            "ends_on": "2027-01-01",
            "notice_days": "30",
            "annual_value": "100",
            "currency": "EUR",
            "owner": procurement.pk,
            "requests": requests,
        },
    )
    assert response.status_code == 200
    assert "is not a valid value" in response.content.decode()
    assert not vendor.contracts.exists()


@pytest.mark.parametrize("value", ["²", str(2**70), "-1", "0", "abc"])
def test_marking_a_notification_read_with_an_id_that_is_no_id_marks_all(client, requester, value):
    from notifications.models import Channel, Notification

    Notification.objects.create(
        recipient=requester, channel=Channel.IN_APP, subject="S", body="B", url="/"
    )
    client.force_login(requester)
    response = client.post("/notifications/read/", {"id": value, "follow": "1"})
    assert response.status_code == 302
    assert not Notification.objects.filter(read_at__isnull=True).exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("username", "u" * 300), ("username", "u" * 151), ("password", "p" * 5000)],
)
def test_the_token_endpoint_refuses_overlong_credentials_without_signing_in(field, value):
    """django-axes records a failed sign-in's username in 255 characters: a longer one is
    refused before any sign-in is tried."""
    from rest_framework.test import APIClient

    credentials = {"username": "rita", "password": "secret", field: value}
    for body in ({"format": "json"}, {"format": "multipart"}):
        response = APIClient().post("/api/auth/token/", credentials, **body)
        assert response.status_code == 400
        assert field in response.json()


def test_the_sign_in_page_refuses_an_overlong_username(client):
    response = client.post(SIGN_IN_PAGE, {"username": "u" * 300, "password": "secret"})
    assert response.status_code == 200  # the sign-in page again, not a 500 on PostgreSQL
    assert "_auth_user_id" not in client.session
