from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from approvals import workflow
from core.errors import TransitionNotAllowed
from intake.models import State
from tests.factories import PurchaseRequestFactory, VendorFactory
from tests.intake.test_uploads import PDF, PNG
from vendors import services
from vendors.models import AnswerOption, RiskBand, SecurityQuestion

pytestmark = pytest.mark.django_db


def answers_with_risk(risk_of_each_question: dict[str, int]) -> dict[int, int]:
    """{question id: option id} picking, for each question, the option with the given risk."""
    chosen = {}
    for question in SecurityQuestion.objects.filter(active=True):
        wanted = risk_of_each_question.get(question.text, 0)
        chosen[question.pk] = AnswerOption.objects.get(question=question, risk=wanted).pk
    return chosen


def test_weighted_score_sets_the_risk_tier(it_reviewer):
    vendor = VendorFactory(status="prospective")
    # Weights 3, 3, 2, 1, 1 (data migration). Risks 100, 70, 0, 100, 0 -> (300+210+0+100+0)/10 = 61
    answers = answers_with_risk(
        {
            "Does the vendor hold a current SOC 2 Type II or ISO 27001 certification?": 100,
            "Which company data will the vendor store or process?": 70,
            "Does the vendor support single sign-on (SAML or OIDC)?": 100,
        }
    )
    vendor = services.answer_questionnaire(vendor, by=it_reviewer, answers=answers)
    assert vendor.risk_score == Decimal("61.0")
    assert vendor.risk_tier == "high"


def test_bands_are_configurable(it_reviewer):
    RiskBand.objects.filter(tier="high").update(min_score=Decimal("70"))
    vendor = VendorFactory()
    answers = answers_with_risk(
        {"Does the vendor hold a current SOC 2 Type II or ISO 27001 certification?": 100}
    )
    # 300 / 10 = 30 -> medium
    assert services.answer_questionnaire(vendor, by=it_reviewer, answers=answers).risk_tier == (
        "medium"
    )


def test_an_option_of_another_question_is_refused(it_reviewer):
    first, second = SecurityQuestion.objects.all()[:2]
    with pytest.raises(ValidationError):
        services.answer_questionnaire(
            VendorFactory(), by=it_reviewer, answers={first.pk: second.options.first().pk}
        )


def test_procurement_does_not_answer_the_security_questionnaire(procurement):
    with pytest.raises(PermissionDenied):
        services.answer_questionnaire(VendorFactory(), by=procurement, answers={})


def test_certificate_with_document_and_expiry_flag(it_reviewer):
    vendor = VendorFactory()
    today = timezone.localdate()
    certificate = services.add_certificate(
        vendor,
        by=it_reviewer,
        fields={
            "kind": "soc2_type2",
            "issuer": "Big Four LLP",
            "issued_on": today - timedelta(days=345),
            "expires_on": today + timedelta(days=20),
        },
        document=SimpleUploadedFile("soc2.pdf", PDF),
    )
    assert certificate.is_expiring and not certificate.is_expired
    assert certificate.document_type == "application/pdf"


@pytest.mark.parametrize(
    ("fields", "document", "message"),
    [
        ({"issued_on": date(2026, 5, 1), "expires_on": date(2026, 4, 1)}, None, "after the issue"),
        ({}, SimpleUploadedFile("soc2.pdf", PNG), "is not what its name claims"),
    ],
)
def test_bad_certificates_are_refused(it_reviewer, fields, document, message):
    base = {
        "kind": "iso27001",
        "issuer": "BSI",
        "issued_on": date(2026, 1, 1),
        "expires_on": date(2029, 1, 1),
    }
    with pytest.raises(ValidationError, match=message):
        services.add_certificate(
            VendorFactory(), by=it_reviewer, fields={**base, **fields}, document=document
        )


def test_contract_must_end_after_it_starts(procurement):
    fields = {
        "title": "Analytics platform",
        "starts_on": date(2026, 1, 1),
        "ends_on": date(2025, 12, 31),
        "annual_value": Decimal("12000"),
        "owner": procurement,
    }
    with pytest.raises(ValidationError, match="must end after it starts"):
        services.add_contract(VendorFactory(), by=procurement, fields=fields)


def test_contract_links_the_requests_it_came_from(procurement, requester):
    purchase_request = PurchaseRequestFactory(requester=requester)
    contract = services.add_contract(
        purchase_request.vendor,
        by=procurement,
        fields={
            "title": "Seats",
            "starts_on": date(2026, 1, 1),
            "ends_on": date(2027, 1, 1),
            "annual_value": Decimal("1000"),
            "owner": procurement,
        },
        requests=[purchase_request],
    )
    assert list(contract.requests.all()) == [purchase_request]
    assert contract.notice_date == date(2026, 12, 2)


def test_requester_and_it_rate_after_closing(requester, it_reviewer, other_requester):
    closed = PurchaseRequestFactory(requester=requester, state=State.CLOSED)
    services.rate_vendor(closed, by=requester, delivery=5, quality=4, support=3)
    services.rate_vendor(closed, by=it_reviewer, delivery=3, quality=4, support=5)
    with pytest.raises(TransitionNotAllowed, match="already rated"):
        services.rate_vendor(closed, by=requester, delivery=1, quality=1, support=1)
    with pytest.raises(PermissionDenied):
        services.rate_vendor(closed, by=other_requester, delivery=1, quality=1, support=1)
    from vendors.selectors import vendors_with_figures

    figures = vendors_with_figures().get(pk=closed.vendor_id)
    assert (figures.rating_count, figures.average_delivery, figures.average_support) == (2, 4, 4)


@pytest.mark.parametrize("score", [0, 6, -1])
def test_ratings_outside_one_to_five_are_refused(requester, score):
    closed = PurchaseRequestFactory(requester=requester, state=State.CLOSED)
    with pytest.raises(ValidationError):
        services.rate_vendor(closed, by=requester, delivery=score, quality=3, support=3)


def test_rating_before_closing_is_refused(requester):
    ordered = PurchaseRequestFactory(requester=requester, state=State.ORDERED)
    with pytest.raises(PermissionDenied, match="once the request is closed"):
        services.rate_vendor(ordered, by=requester, delivery=3, quality=3, support=3)


def test_website_must_be_a_url(procurement):
    with pytest.raises(ValidationError) as error:
        services.create_vendor(by=procurement, fields={"name": "Globex", "website": "not a url"})
    assert "website" in error.value.message_dict


def test_start_review_from_the_vendor_page_only_when_prospective(procurement):
    vendor = workflow.start_review(VendorFactory(status="prospective"), by=procurement)
    assert vendor.status == "under_review"
    assert vendor.steps.count() == 2
    with pytest.raises(TransitionNotAllowed):
        workflow.start_review(VendorFactory(status="approved"), by=procurement)
