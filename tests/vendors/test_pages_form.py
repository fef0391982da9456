"""The vendor form and the security questionnaire (SPEC §5, §6): creating and editing a vendor,
field errors, risk score and tier."""

import re
from decimal import Decimal

import pytest

from audit.models import AuditEvent
from tests.factories import VendorFactory
from tests.vendors.pages_support import (
    CERTIFIED,
    DATA,
    answers_with_risk,
    field_error,
    html,
)
from vendors.models import (
    SecurityQuestion,
    Vendor,
    VendorStatus,
)

pytestmark = pytest.mark.django_db


# The vendor form


def test_a_reviewer_creates_a_vendor(client, procurement):
    client.force_login(procurement)
    response = client.post(
        "/vendors/new/",
        {
            "name": "Northwind Analytics",
            "legal_name": "Northwind Analytics GmbH",
            "website": "https://northwind.example",
            "country": "de",
            "contact_name": "Nora North",
            "contact_email": "nora@northwind.example",
            "data_access_level": "confidential",
            "carbon_disclosure": "true",
            "esg_rating": "B",
        },
    )
    vendor = Vendor.objects.get(name="Northwind Analytics")
    assert response.status_code == 302
    assert response.url == f"/vendors/{vendor.pk}/"
    assert vendor.status == VendorStatus.PROSPECTIVE
    assert vendor.country == "DE"
    assert vendor.carbon_disclosure is True
    assert AuditEvent.objects.for_object(vendor).get().kind == "created"
    page = html(client.get(response.url))
    assert "Northwind Analytics GmbH" in page and "Confidential data" in page


def test_vendor_form_shows_field_errors(client, it_reviewer):
    VendorFactory(name="Acme Analytics")
    client.force_login(it_reviewer)
    response = client.post(
        "/vendors/new/",
        {"name": "acme analytics", "website": "not a url", "contact_email": "nobody"},
    )
    assert response.status_code == 200
    page = html(response)
    assert field_error(page, "website") == "Enter a valid URL."
    assert field_error(page, "contact_email") == "Enter a valid email address."
    assert field_error(page, "name") == "A vendor with this name already exists."
    assert Vendor.objects.count() == 1

    response = client.post("/vendors/new/", {"name": ""})
    assert field_error(html(response), "name") == "This field is required."


def test_a_reviewer_edits_a_vendor(client, it_reviewer):
    vendor = VendorFactory(name="Acme Analytics", status="approved")
    client.force_login(it_reviewer)
    page = html(client.get(f"/vendors/{vendor.pk}/edit/"))
    assert 'value="Acme Analytics"' in page
    response = client.post(
        f"/vendors/{vendor.pk}/edit/",
        {"name": "Acme Analytics", "website": "https://acme.example", "conditions": "EU only"},
    )
    assert response.status_code == 302
    vendor.refresh_from_db()
    assert vendor.conditions == "EU only"
    assert vendor.status == VendorStatus.APPROVED  # the form never touches the status
    event = AuditEvent.objects.for_object(vendor).get(kind="edited")
    assert "conditions" in event.payload["fields"]

    response = client.post(f"/vendors/{vendor.pk}/edit/", {"name": "Acme", "website": "acme"})
    assert field_error(html(response), "website") == "Enter a valid URL."


def test_unknown_vendor_is_404(client, it_reviewer):
    client.force_login(it_reviewer)
    assert client.get("/vendors/999999/").status_code == 404


# The questionnaire


def test_questionnaire_answers_set_the_risk_score_and_tier(client, it_reviewer):
    vendor = VendorFactory(status="prospective")
    client.force_login(it_reviewer)
    page = html(client.get(f"/vendors/{vendor.pk}/"))
    assert len(re.findall(r'type="radio"', page)) == 3 + 4 + 3 + 2 + 3
    assert "Not assessed" in page

    # (100*3 + 70*3) / 10 = 51 -> high (bands 0 / 25 / 50 / 75)
    data = answers_with_risk({CERTIFIED: 100, DATA: 70})
    response = client.post(f"/vendors/{vendor.pk}/questionnaire/", data, follow=True)

    vendor.refresh_from_db()
    assert vendor.risk_score == Decimal("51.0")
    assert vendor.risk_tier == "high"
    page = html(response)
    assert "risk score 51.0, tier High" in page
    assert re.search(r'id="risk-tier"><span class="badge[^"]*" data-tier="high">High<', page)
    # The current answers are preselected.
    for option_id in data.values():
        assert re.search(rf'<input[^>]*value="{option_id}"[^>]*checked', page)
    assert "Questionnaire answered: score 51.0, tier high" in page

    # Answering again moves the tier: all best answers -> 0 -> low.
    client.post(f"/vendors/{vendor.pk}/questionnaire/", answers_with_risk({}))
    vendor.refresh_from_db()
    assert (vendor.risk_score, vendor.risk_tier) == (Decimal("0.0"), "low")


def test_questionnaire_shows_a_missing_answer_on_its_question(client, it_reviewer):
    vendor = VendorFactory()
    client.force_login(it_reviewer)
    data = answers_with_risk({})
    question = SecurityQuestion.objects.get(text=DATA)
    del data[f"question_{question.pk}"]
    response = client.post(f"/vendors/{vendor.pk}/questionnaire/", data)
    assert response.status_code == 200
    assert field_error(html(response), f"question_{question.pk}") == "Choose an answer."
    vendor.refresh_from_db()
    assert vendor.risk_tier == ""
    assert not vendor.answers.exists()


def test_only_it_answers_the_questionnaire(client, procurement):
    vendor = VendorFactory()
    client.force_login(procurement)
    assert 'id="questionnaire"' not in html(client.get(f"/vendors/{vendor.pk}/"))
    response = client.post(f"/vendors/{vendor.pk}/questionnaire/", answers_with_risk({}))
    assert response.status_code == 403
    assert not vendor.answers.exists()
