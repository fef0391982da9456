"""The request form as Zip's intake would have it (issue 29, item 7): one empty line item to
start, no "---------" in any select but words for what an empty choice means, no star on either
half of "an existing vendor or a new one", the company's usual currencies first, and amounts as
core.formats.money writes them."""

import re
from decimal import Decimal

import pytest
from django.conf import settings

from intake.models import ExchangeRate, PurchaseRequest
from tests.factories import PurchaseRequestFactory

from .test_pages import form_data

pytestmark = pytest.mark.django_db


def html(response) -> str:
    return response.content.decode()


def line_rows(page: str) -> int:
    """The line-item rows of the table, not the template row that the script copies."""
    table = re.search(r'<table[^>]*id="line-items".*?</table>', page, re.S).group()
    return table.count("<tr data-line>")


def selects(page: str) -> dict[str, str]:
    """Each select of the request form by name, with the words of its empty choice ("" when it
    has none)."""
    form = re.search(r'<form[^>]*id="request-form".*?</form>', page, re.S).group()
    found = {}
    for name, body in re.findall(r'<select name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        empty = re.search(r'<option value=""[^>]*>([^<]*)</option>', body)
        found[name] = empty.group(1) if empty else ""
    return found


def test_a_new_request_starts_with_one_empty_line_item(client, requester):
    client.force_login(requester)
    page = html(client.get("/requests/new/"))
    assert line_rows(page) == 1
    assert 'name="items-TOTAL_FORMS" value="1"' in page
    assert "Save the draft: a new empty line appears each time." in page
    assert "two new empty lines" not in page

    draft = PurchaseRequestFactory(requester=requester)
    draft.line_items.create(description="Setup", quantity=1, unit_price=Decimal("300"))
    saved = draft.line_items.count()
    assert line_rows(html(client.get(f"/requests/{draft.pk}/edit/"))) == saved + 1  # one empty


def test_no_select_shows_dashes_and_each_empty_choice_says_what_it_means(client, requester):
    client.force_login(requester)
    page = html(client.get("/requests/new/"))
    assert "---------" not in page
    assert selects(page) == {
        "category": "Choose a category",
        "department": "Choose the department to charge",
        "currency": "",  # always one: the base currency to start with
        "billing": "",  # always one: one-off to start with
        "vendor": "None: I propose a new vendor below",
        "data_classification": "Choose how sensitive its data is",
        "handles_personal_data": "",  # "Not answered yet" is its own choice
    }
    assert '<option value="unknown" selected>Not answered yet</option>' in page
    # A form sent back with errors keeps the words.
    refused = html(client.post("/requests/new/", form_data(title="", category="", save="1")))
    assert "---------" not in refused and ">Choose a category</option>" in refused


def test_neither_vendor_field_is_starred_and_the_pair_says_one_of_the_two(client, requester):
    client.force_login(requester)
    page = html(client.get("/requests/new/"))
    for name in ("vendor", "proposed_vendor_name"):
        label = re.search(rf'<label class="form-label" for="id_{name}">(.*?)</label>', page, re.S)
        assert "*" not in label.group(1)
    assert (
        "One of the two is needed to submit: an existing vendor, or a new one proposed below."
        in page
    )
    assert (
        "One of the two is needed to submit: a new vendor, or an existing one chosen above." in page
    )
    # Submit still asks for one of them, on "Existing vendor", which keeps its note too.
    draft = PurchaseRequestFactory(requester=requester, vendor=None, proposed_vendor_name="")
    page = html(client.get(f"/requests/{draft.pk}/edit/?check=1"))
    assert "Choose a vendor or propose a new one." in page
    assert 'aria-describedby="id_vendor_error id_vendor_one_of"' in page


def test_the_usual_currencies_come_first(client, requester):
    ExchangeRate.objects.update_or_create(currency="JPY", defaults={"rate_to_base": "0.0061"})
    client.force_login(requester)
    page = html(client.get("/requests/new/"))
    select = re.search(r'<select name="currency".*?</select>', page, re.S).group()
    groups = re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', select, re.S)
    assert [label for label, _ in groups] == ["Usual", "All currencies"]
    usual = re.findall(r'<option value="(\w+)"', groups[0][1])
    rated = sorted(ExchangeRate.objects.exclude(currency="EUR").values_list("currency", flat=True))
    assert usual == [settings.TANDEM_BASE_CURRENCY, *rated]
    assert "JPY" in usual and "EUR" not in usual[1:]
    every = re.findall(r'<option value="(\w+)"', groups[1][1])
    assert len(every) > 100 and every == sorted(every)  # the full list, as before
    assert '<option value="EUR" selected>EUR – Euro</option>' in groups[0][1]
    # Each currency that does not show two decimals says how many, for the script's totals.
    assert re.search(r'<option value="JPY" data-digits="0">', select)
    assert re.search(r'<option value="BHD" data-digits="3">', select)


def test_validation_of_the_currency_is_unchanged(client, requester):
    """Any currency in use may be chosen, usual or not; anything else is refused."""
    client.force_login(requester)
    saved = client.post("/requests/new/", form_data(title="In rand", currency="ZAR", save="1"))
    assert saved.status_code == 302
    assert PurchaseRequest.objects.get(title="In rand").currency == "ZAR"
    refused = html(client.post("/requests/new/", form_data(currency="XYZ", save="1")))
    assert "Select a valid choice. XYZ is not one of the available choices." in refused


def test_the_saved_total_shows_as_money_everywhere_else_does(client, requester):
    draft = PurchaseRequestFactory(requester=requester, total_cost=Decimal("12500.00"))
    client.force_login(requester)
    page = html(client.get(f"/requests/{draft.pk}/edit/"))
    assert re.search(r'id="tco-total">12,500.00 EUR<', page)
    assert 'data-locale="en-us"' in page  # the script formats in the page's language
