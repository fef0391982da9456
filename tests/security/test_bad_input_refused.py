"""Bad input refused with a clear error (400 naming the field, or the form's error) and nothing
saved, not even half of it; amounts, quantities and terms bounded everywhere (SPEC §9)."""

from decimal import Decimal

import pytest

from intake.models import PurchaseRequest
from tests.factories import PurchaseRequestFactory, VendorFactory
from tests.security.bad_input_support import LIST, NEW, form_data, rows_saved
from tests.security.conftest import inline_script_in

pytestmark = pytest.mark.django_db


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
    for body in ("x" * 20_001, "   ", "\x00"):
        response = client.post(f"/requests/{purchase_request.pk}/comments/", {"body": body})
        assert response.status_code == 302
        response = api.as_user(requester).post(
            f"{LIST}{purchase_request.pk}/comments/", {"body": body}, format="json"
        )
        assert response.status_code == 400
    assert not purchase_request.comments.exists()


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
