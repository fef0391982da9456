"""The vendor pages (SPEC §5, §6): list with filters, vendor form, and the vendor page with its
joint review, questionnaire, certificates, contracts, requests, performance and timeline."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from approvals.models import StepState
from audit.models import AuditEvent
from core import formats
from tests.factories import PurchaseRequestFactory, UserFactory, VendorFactory
from tests.intake.test_uploads import PDF, PNG
from vendors.models import (
    AnswerOption,
    Certificate,
    Contract,
    SecurityQuestion,
    Vendor,
    VendorRating,
    VendorStatus,
)

pytestmark = pytest.mark.django_db

# The default questionnaire (vendors/migrations/0003): weights 3, 3, 2, 1, 1.
CERTIFIED = "Does the vendor hold a current SOC 2 Type II or ISO 27001 certification?"
DATA = "Which company data will the vendor store or process?"


def today():
    return timezone.localdate()


def html(response) -> str:
    return response.content.decode()


def row(page: str, attribute: str, value: str) -> str:
    """The table row `<tr attribute="value">` of a page, or "" when there is none."""
    match = re.search(rf'<tr {attribute}="{re.escape(value)}".*?</tr>', page, re.S)
    return match.group() if match else ""


def field_error(page: str, field: str) -> str:
    """The message templates/includes/field.html shows under a field, or ""."""
    match = re.search(rf'id="id_{field}_error">(.*?)</div>', page, re.S)
    return match.group(1) if match else ""


def answers_with_risk(risks: dict[str, int]) -> dict[str, int]:
    """POST data of the questionnaire: for each active question the option with the given risk
    (0 for questions not named)."""
    data = {}
    for question in SecurityQuestion.objects.filter(active=True):
        option = AnswerOption.objects.get(question=question, risk=risks.get(question.text, 0))
        data[f"question_{question.pk}"] = option.pk
    return data


def certificate_data(**overrides):
    data = {
        "kind": "soc2_type2",
        "issuer": "Example Audit LLP",
        "issued_on": (today() - timedelta(days=345)).isoformat(),
        "expires_on": (today() + timedelta(days=20)).isoformat(),
        "document": SimpleUploadedFile("soc2.pdf", PDF, content_type="application/pdf"),
    }
    data.update(overrides)
    return data


def contract_data(owner, **overrides):
    data = {
        "title": "Analytics platform 2025",
        "starts_on": (today() - timedelta(days=10)).isoformat(),
        "ends_on": (today() + timedelta(days=355)).isoformat(),
        "auto_renew": "on",
        "notice_days": "60",
        "annual_value": "24000.00",
        "currency": "EUR",
        "owner": owner.pk,
    }
    data.update(overrides)
    return data


# Who may see the pages


def test_vendor_pages_are_forbidden_to_a_requester(client, requester):
    vendor = VendorFactory()
    certificate = Certificate.objects.create(
        vendor=vendor,
        kind="iso27001",
        issuer="BSI",
        issued_on=today() - timedelta(days=10),
        expires_on=today() + timedelta(days=300),
        uploaded_by=UserFactory(),
    )
    client.force_login(requester)
    for url in (
        "/vendors/",
        "/vendors/new/",
        f"/vendors/{vendor.pk}/",
        f"/vendors/{vendor.pk}/edit/",
        f"/vendors/{vendor.pk}/certificates/{certificate.pk}/document/",
    ):
        response = client.get(url)
        assert response.status_code == 403, url
    assert client.post(f"/vendors/{vendor.pk}/review/").status_code == 403


def test_finance_sees_vendors_but_does_not_change_them(client):
    finance = UserFactory(username="fiona", roles=["finance"])
    vendor = VendorFactory(name="Contoso", status="prospective")
    client.force_login(finance)
    assert "Contoso" in html(client.get("/vendors/"))
    page = html(client.get(f"/vendors/{vendor.pk}/"))
    assert "Start joint review" not in page
    assert 'id="questionnaire"' not in page
    assert "Add a certificate" not in page
    assert client.get("/vendors/new/").status_code == 403
    assert client.post(f"/vendors/{vendor.pk}/contracts/", {}).status_code == 403


# The list


def test_list_shows_each_vendors_figures(client, it_reviewer, requester):
    vendor = VendorFactory(name="Acme Analytics", status="under_review", risk_tier="high")
    Certificate.objects.create(
        vendor=vendor,
        kind="soc2_type2",
        issuer="Example Audit LLP",
        issued_on=today() - timedelta(days=300),
        expires_on=today() + timedelta(days=10),
        uploaded_by=it_reviewer,
    )
    Contract.objects.create(
        vendor=vendor,
        title="Current",
        starts_on=today() - timedelta(days=1),
        ends_on=today() + timedelta(days=100),
        annual_value=Decimal("100.00"),
        owner=it_reviewer,
    )
    purchase_request = PurchaseRequestFactory(vendor=vendor, requester=requester, state="closed")
    for rater, scores in ((requester, (4, 5, 3)), (it_reviewer, (5, 5, 4))):
        VendorRating.objects.create(
            vendor=vendor,
            request=purchase_request,
            rater=rater,
            delivery=scores[0],
            quality=scores[1],
            support=scores[2],
        )
    VendorFactory(name="Quiet Vendor")
    client.force_login(it_reviewer)

    page = html(client.get("/vendors/"))

    acme = row(page, "data-vendor", "Acme Analytics")
    assert 'data-status="under_review"' in acme and "Under review" in acme
    assert 'data-tier="high"' in acme
    assert re.search(r'class="text-end">1</td>', acme)  # one active contract
    assert "Certificate expiring" in acme
    assert "4.3" in acme and "(2 ratings)" in acme  # (4.5 + 5 + 3.5) / 3
    quiet = row(page, "data-vendor", "Quiet Vendor")
    assert "Certificate expiring" not in quiet
    assert "No ratings" in quiet and "Not assessed" in quiet


def test_list_filters_by_status_tier_name_and_expiring_certificates(client, procurement):
    acme = VendorFactory(name="Acme Analytics", status="approved", risk_tier="low")
    VendorFactory(name="Beta Hosting", status="prospective", risk_tier="high")
    VendorFactory(name="Gamma Analytics", status="rejected", risk_tier="critical")
    Certificate.objects.create(
        vendor=acme,
        kind="iso27001",
        issuer="BSI",
        issued_on=today() - timedelta(days=300),
        expires_on=today() + timedelta(days=29),
        uploaded_by=procurement,
    )
    client.force_login(procurement)

    def names(query: str) -> list[str]:
        return re.findall(r'<tr data-vendor="([^"]+)"', html(client.get(f"/vendors/?{query}")))

    assert names("") == ["Acme Analytics", "Beta Hosting", "Gamma Analytics"]
    assert names("status=prospective&status=rejected") == ["Beta Hosting", "Gamma Analytics"]
    assert names("risk_tier=high&risk_tier=critical") == ["Beta Hosting", "Gamma Analytics"]
    assert names("name=analytics") == ["Acme Analytics", "Gamma Analytics"]
    assert names("certificates_expiring=true") == ["Acme Analytics"]
    assert names("certificates_expiring=false") == ["Beta Hosting", "Gamma Analytics"]
    assert names("name=analytics&status=approved") == ["Acme Analytics"]
    page = html(client.get("/vendors/?name=nothing-like-it"))
    assert "No vendors match these filters." in page
    # The chosen filters stay checked.
    page = html(client.get("/vendors/?status=rejected"))
    assert re.search(r'<input[^>]*value="rejected"[^>]*checked', page)


def test_list_pages_by_25_and_keeps_the_filters_in_the_page_links(client, it_reviewer):
    for n in range(30):
        VendorFactory(name=f"Vendor {n:02d}", status="approved")
    client.force_login(it_reviewer)
    page = html(client.get("/vendors/?status=approved"))
    assert len(re.findall(r"<tr data-vendor=", page)) == 25
    assert "Page 1 of 2" in page
    assert 'href="?status=approved&amp;page=2"' in page
    second = html(client.get("/vendors/?status=approved&page=2"))
    assert len(re.findall(r"<tr data-vendor=", second)) == 5


def vendors_with_everything(count: int, owner) -> None:
    """`count` vendors, each with an expiring certificate, an active contract and a rating."""
    for _ in range(count):
        vendor = VendorFactory()
        Certificate.objects.create(
            vendor=vendor,
            kind="soc2_type2",
            issuer="Auditor",
            issued_on=today() - timedelta(days=300),
            expires_on=today() + timedelta(days=5),
            uploaded_by=owner,
        )
        Contract.objects.create(
            vendor=vendor,
            title="Contract",
            starts_on=today() - timedelta(days=5),
            ends_on=today() + timedelta(days=50),
            annual_value=Decimal("10.00"),
            owner=owner,
        )
        purchase_request = PurchaseRequestFactory(vendor=vendor, requester=owner, state="closed")
        VendorRating.objects.create(
            vendor=vendor, request=purchase_request, rater=owner, delivery=3, quality=4, support=5
        )


def test_list_runs_the_same_number_of_queries_for_5_and_50_vendors(
    client, it_reviewer, django_assert_max_num_queries
):
    client.force_login(it_reviewer)
    vendors_with_everything(5, it_reviewer)
    client.get("/vendors/")  # warm caches that are not per request (content types)
    with CaptureQueriesContext(connection) as five:
        response = client.get("/vendors/")
    assert len(re.findall(r"<tr data-vendor=", html(response))) == 5

    vendors_with_everything(45, it_reviewer)
    with django_assert_max_num_queries(len(five)):
        response = client.get("/vendors/")
    assert len(re.findall(r"<tr data-vendor=", html(response))) == 25
    assert html(response).count("Certificate expiring") == 25


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


# Certificates


def test_a_certificate_is_added_and_flagged_as_expiring(client, it_reviewer):
    vendor = VendorFactory(name="Acme Analytics")
    client.force_login(it_reviewer)
    response = client.post(f"/vendors/{vendor.pk}/certificates/", certificate_data(), follow=True)

    certificate = vendor.certificates.get()
    assert certificate.document_name == "soc2.pdf"
    assert certificate.document_type == "application/pdf"
    page = html(response)
    assert "SOC 2 Type II certificate added." in page
    line = row(page, "data-certificate", str(certificate.pk))
    assert "SOC 2 Type II" in line and "Example Audit LLP" in line
    assert 'data-flag="expiring"' in line
    assert "Certificate added: SOC 2 Type II" in page
    assert "Certificate expiring" in row(
        html(client.get("/vendors/")), "data-vendor", "Acme Analytics"
    )


def test_an_expired_certificate_is_flagged_as_expired(client, it_reviewer):
    vendor = VendorFactory()
    client.force_login(it_reviewer)
    data = certificate_data(
        kind="iso27001",
        issued_on=(today() - timedelta(days=400)).isoformat(),
        expires_on=(today() - timedelta(days=1)).isoformat(),
        document="",
    )
    client.post(f"/vendors/{vendor.pk}/certificates/", data)
    certificate = vendor.certificates.get()
    line = row(html(client.get(f"/vendors/{vendor.pk}/")), "data-certificate", str(certificate.pk))
    assert 'data-flag="expired"' in line and 'data-flag="expiring"' not in line
    assert not certificate.document


def test_certificate_errors_show_on_their_fields(client, it_reviewer):
    vendor = VendorFactory()
    client.force_login(it_reviewer)
    data = certificate_data(
        issued_on=today().isoformat(),
        expires_on=(today() - timedelta(days=1)).isoformat(),
    )
    response = client.post(f"/vendors/{vendor.pk}/certificates/", data)
    assert response.status_code == 200
    page = html(response)
    assert field_error(page, "expires_on") == "The expiry date must be after the issue date."
    assert "<details open" in page  # the form stays open with its errors

    disguised = SimpleUploadedFile("soc2.pdf", PNG, content_type="application/pdf")
    response = client.post(
        f"/vendors/{vendor.pk}/certificates/", certificate_data(document=disguised)
    )
    assert "is not what its name claims" in field_error(html(response), "document")

    response = client.post(f"/vendors/{vendor.pk}/certificates/", certificate_data(issuer=""))
    assert field_error(html(response), "issuer") == "This field is required."
    assert not vendor.certificates.exists()


def test_certificate_document_is_downloaded_only_by_vendor_viewers(
    client, it_reviewer, procurement, requester
):
    vendor = VendorFactory()
    client.force_login(it_reviewer)
    client.post(f"/vendors/{vendor.pk}/certificates/", certificate_data())
    certificate = vendor.certificates.get()
    url = f"/vendors/{vendor.pk}/certificates/{certificate.pk}/document/"
    assert url in html(client.get(f"/vendors/{vendor.pk}/"))

    client.force_login(procurement)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert 'filename="soc2.pdf"' in response["Content-Disposition"]
    other = VendorFactory()
    assert client.get(
        f"/vendors/{other.pk}/certificates/{certificate.pk}/document/"
    ).status_code == (404)

    client.force_login(requester)
    assert client.get(url).status_code == 403


# Contracts


def test_a_contract_is_added_with_the_requests_it_came_from(client, procurement, requester):
    vendor = VendorFactory(name="Acme Analytics")
    purchase_request = PurchaseRequestFactory(vendor=vendor, requester=requester, state="approved")
    client.force_login(procurement)
    data = contract_data(procurement, requests=[purchase_request.pk])
    response = client.post(f"/vendors/{vendor.pk}/contracts/", data, follow=True)

    contract = vendor.contracts.get()
    assert list(contract.requests.all()) == [purchase_request]
    assert contract.auto_renew and contract.notice_days == 60
    page = html(response)
    assert "Contract “Analytics platform 2025” added." in page
    line = row(page, "data-contract", str(contract.pk))
    for text in (
        "Analytics platform 2025",
        "active",
        formats.day(contract.starts_on),
        formats.day(contract.ends_on),
        "Yes",
        "60 days",
        "24,000.00 EUR",
        str(procurement),
        purchase_request.number,
    ):
        assert text in line, text
    assert "1</td>" in row(html(client.get("/vendors/")), "data-vendor", "Acme Analytics")


def test_contract_errors_show_on_their_fields(client, procurement):
    vendor = VendorFactory()
    client.force_login(procurement)
    data = contract_data(
        procurement, starts_on=today().isoformat(), ends_on=today().isoformat(), annual_value="-1"
    )
    response = client.post(f"/vendors/{vendor.pk}/contracts/", data)
    assert response.status_code == 200
    page = html(response)
    assert field_error(page, "ends_on") == "The contract must end after it starts."
    assert "greater than or equal to 0" in field_error(page, "annual_value")
    assert not vendor.contracts.exists()


# Requests, performance, timeline


def test_vendor_page_lists_its_requests_and_performance(client, cio, requester, it_reviewer):
    vendor = VendorFactory(name="Acme Analytics")
    closed = PurchaseRequestFactory(
        vendor=vendor, requester=requester, state="closed", title="Dashboards"
    )
    PurchaseRequestFactory(vendor=vendor, requester=requester, state="draft", title="More seats")
    VendorRating.objects.create(
        vendor=vendor, request=closed, rater=requester, delivery=4, quality=3, support=2
    )
    VendorRating.objects.create(
        vendor=vendor, request=closed, rater=it_reviewer, delivery=5, quality=4, support=4
    )
    client.force_login(cio)
    page = html(client.get(f"/vendors/{vendor.pk}/"))
    line = row(page, "data-number", closed.number)
    assert "Dashboards" in line and 'data-state="closed"' in line
    assert 'id="average-delivery">4.5<' in page
    assert 'id="average-quality">3.5<' in page
    assert 'id="average-support">3.0<' in page
    assert "from 2 ratings" in page


# The joint review


def test_start_review_creates_both_steps_and_it_sees_its_decision_buttons(
    client, procurement, it_reviewer
):
    vendor = VendorFactory(name="Acme Analytics", status="prospective")
    client.force_login(procurement)
    assert "Start joint review" in html(client.get(f"/vendors/{vendor.pk}/"))

    response = client.post(f"/vendors/{vendor.pk}/review/", follow=True)

    vendor.refresh_from_db()
    assert vendor.status == VendorStatus.UNDER_REVIEW
    steps = {step.side: step for step in vendor.steps.all()}
    assert set(steps) == {"it", "procurement"}
    assert {step.state for step in steps.values()} == {StepState.OPEN}
    page = html(response)
    assert "The joint review of Acme Analytics has started." in page
    assert "Start joint review" not in page
    assert 'data-status="under_review"' in page

    client.force_login(it_reviewer)
    page = html(client.get(f"/vendors/{vendor.pk}/"))
    it_step = re.search(r'<div [^>]*data-side="it".*?</form>', page, re.S).group()
    assert 'data-step-state="open"' in it_step
    assert f'action="/approvals/steps/{steps["it"].pk}/approve/"' in it_step
    for button in ("Approve", "Reject"):
        assert f">{button}</button>" in it_step
    # The procurement step is not IT's: no buttons, the reason instead.
    assert f"/approvals/steps/{steps['procurement'].pk}/approve/" not in page
    assert "you are not in it" in page
    kinds = [e.kind for e in AuditEvent.objects.for_object(vendor)]
    assert kinds == ["start_review", "routed"]
    assert "Joint review started" in page


def test_review_cannot_start_twice_or_for_an_approved_vendor(client, procurement):
    vendor = VendorFactory(status="approved")
    client.force_login(procurement)
    assert "Start joint review" not in html(client.get(f"/vendors/{vendor.pk}/"))
    response = client.post(f"/vendors/{vendor.pk}/review/", follow=True)
    assert "is approved, so it cannot be put under review." in html(response)
    assert not vendor.steps.exists()


def test_a_vendor_without_review_says_so(client, it_reviewer):
    vendor = VendorFactory(status="prospective")
    client.force_login(it_reviewer)
    page = html(client.get(f"/vendors/{vendor.pk}/"))
    assert "No review yet" in page


def test_a_vendor_under_review_without_steps_offers_start_review(client, procurement, requester):
    """No dead end: "Under review" with "No review yet" has an action, and starting it opens
    the steps and releases nobody's request too early."""
    vendor = VendorFactory(name="Stuck Ltd", status="under_review")
    client.force_login(procurement)
    page = html(client.get(f"/vendors/{vendor.pk}/"))
    assert "No review yet" in page
    assert "Start joint review</button>" in page

    page = html(client.post(f"/vendors/{vendor.pk}/review/", follow=True))
    assert "The joint review of Stuck Ltd has started." in page
    assert vendor.steps.filter(state=StepState.OPEN).count() == 2
    assert "Start joint review</button>" not in page
    assert "Joint review steps added" in page


def test_finance_sees_who_starts_a_review_instead_of_a_button(client):
    finance = UserFactory(username="fiona", roles=["finance"])
    vendor = VendorFactory(status="prospective")
    client.force_login(finance)
    page = html(client.get(f"/vendors/{vendor.pk}/"))
    assert "Start joint review</button>" not in page
    assert "IT and procurement reviewers start the review" in page


def test_conditions_are_shown_for_a_vendor_approved_with_conditions(client, procurement):
    vendor = VendorFactory(status="approved_with_conditions", conditions="EU hosting only")
    client.force_login(procurement)
    page = html(client.get(f"/vendors/{vendor.pk}/"))
    box = re.search(r'id="vendor-conditions".*?</div>\s*</div>', page, re.S).group()
    assert "Approved with these conditions" in box and "EU hosting only" in box


def test_the_score_stands_beside_the_tier(client, procurement):
    vendor = VendorFactory(status="approved", risk_tier="high", risk_score=Decimal("62.5"))
    client.force_login(procurement)
    page = html(client.get(f"/vendors/{vendor.pk}/"))
    header = re.search(r'id="vendor-status">.*?</div>', page, re.S).group()
    assert 'data-tier="high"' in header and "score 62.5 of 100" in header
    listing = row(html(client.get("/vendors/")), "data-vendor", vendor.name)
    assert "score 62.5" in listing
