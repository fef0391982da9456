"""/api/vendors/ (SPEC §5, §7): the security questionnaire, certificates, contracts and
ratings, with the status codes of §7."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from intake.models import State
from tests.factories import PurchaseRequestFactory, VendorFactory
from tests.intake.test_uploads import PDF, PNG
from tests.vendors.api_support import (
    EXE,
    certificate,
    certificate_payload,
    contract_payload,
    days,
    option_with_risk,
    url,
)
from vendors.models import (
    Certificate,
    Contract,
    SecurityQuestion,
    VendorAnswer,
    VendorRating,
)

pytestmark = pytest.mark.django_db

# --- the security questionnaire -------------------------------------------------------------


def test_questionnaire_shows_questions_options_and_answers(api, it_reviewer):
    vendor = VendorFactory()
    first = SecurityQuestion.objects.first()
    VendorAnswer.objects.create(
        vendor=vendor, question=first, option=option_with_risk(first, 50), answered_by=it_reviewer
    )

    response = api.as_user(it_reviewer).get(url(vendor, "questionnaire"))

    assert response.status_code == 200
    body = response.json()
    assert len(body["questions"]) == SecurityQuestion.objects.filter(active=True).count() == 5
    question = body["questions"][0]
    assert (question["id"], question["text"], question["weight"]) == (
        first.pk,
        first.text,
        first.weight,
    )
    assert [o["risk"] for o in question["options"]] == [0, 50, 100]
    assert (question["answer"], question["answered_by"]) == (
        option_with_risk(first, 50).pk,
        str(it_reviewer),
    )
    assert {q["answer"] for q in body["questions"][1:]} == {None}


def test_answering_the_questionnaire_sets_score_and_tier(api, it_reviewer):
    vendor = VendorFactory(status="prospective")
    # Weights 3, 3, 2, 1, 1. Risks 100, 70, 0, 100, 0 -> (300 + 210 + 0 + 100 + 0) / 10 = 61
    risks = [100, 70, 0, 100, 0]
    answers = [
        {"question": q.pk, "option": option_with_risk(q, risk).pk}
        for q, risk in zip(SecurityQuestion.objects.filter(active=True), risks, strict=True)
    ]

    response = api.as_user(it_reviewer).post(
        url(vendor, "questionnaire"), {"answers": answers}, format="json"
    )

    assert response.status_code == 200
    assert (response.json()["risk_score"], response.json()["risk_tier"]) == (61.0, "high")
    assert [q["answer"] for q in response.json()["questions"]] == [a["option"] for a in answers]
    listed = api.get(url(vendor)).json()
    assert (listed["risk_score"], listed["risk_tier"]) == (61.0, "high")


def test_an_option_of_another_question_is_400(api, it_reviewer):
    vendor = VendorFactory()
    first, second = SecurityQuestion.objects.all()[:2]
    response = api.as_user(it_reviewer).post(
        url(vendor, "questionnaire"),
        {"answers": [{"question": first.pk, "option": second.options.first().pk}]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {f"question_{first.pk}": ["Choose one of this question's answers."]}
    assert not VendorAnswer.objects.exists()


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"answers": []},
        {"answers": [{"question": "first"}]},
        "duplicate",
    ],
)
def test_malformed_answers_are_400(api, it_reviewer, payload):
    if payload == "duplicate":
        question = SecurityQuestion.objects.first()
        option = question.options.first().pk
        payload = {"answers": [{"question": question.pk, "option": option}] * 2}
    response = api.as_user(it_reviewer).post(
        url(VendorFactory(), "questionnaire"), payload, format="json"
    )
    assert response.status_code == 400
    assert "answers" in response.json()


def test_procurement_does_not_answer_the_security_questionnaire(api, procurement):
    question = SecurityQuestion.objects.first()
    response = api.as_user(procurement).post(
        url(VendorFactory(), "questionnaire"),
        {"answers": [{"question": question.pk, "option": question.options.first().pk}]},
        format="json",
    )
    assert response.status_code == 403
    assert response.json()["detail"] == "Only IT reviewers answer the security questionnaire."
    assert not VendorAnswer.objects.exists()


# --- certificates ---------------------------------------------------------------------------


def test_a_certificate_without_a_document_as_json(api, procurement):
    vendor = VendorFactory()
    api.as_user(procurement)

    response = api.post(url(vendor, "certificates"), certificate_payload(), format="json")

    assert response.status_code == 201
    body = response.json()
    assert (body["kind_display"], body["is_expiring"], body["document_url"]) == (
        "SOC 2 Type II",
        True,
        None,
    )
    listed = api.get(url(vendor, "certificates")).json()
    assert [c["id"] for c in listed] == [body["id"]]
    assert api.get(url(vendor)).json()["has_expiring_certificate"] is True


def test_a_certificate_with_its_document_as_multipart(api, it_reviewer):
    vendor = VendorFactory()
    api.as_user(it_reviewer)

    response = api.post(
        url(vendor, "certificates"),
        certificate_payload(document=SimpleUploadedFile("soc2.pdf", PDF)),
        format="multipart",
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["document_name"], body["document_type"], body["uploaded_by"]) == (
        "soc2.pdf",
        "application/pdf",
        str(it_reviewer),
    )
    assert "document" not in body
    download = api.get(body["document_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert 'filename="soc2.pdf"' in download["Content-Disposition"]


def test_a_certificate_without_a_document_has_none_to_download(api, it_reviewer):
    vendor = VendorFactory()
    certificate_id = certificate(vendor, expires_in=100, by=it_reviewer).pk
    api.as_user(it_reviewer)
    assert api.get(url(vendor, f"certificates/{certificate_id}/document")).status_code == 404
    other = VendorFactory()
    assert api.get(url(other, f"certificates/{certificate_id}/document")).status_code == 404


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"issued_on": days(10).isoformat(), "expires_on": days(-10).isoformat()},
            "expires_on",
            "after the issue date",
        ),
        ({"document": ("soc2.pdf", PNG)}, "document", "is not what its name claims"),
        ({"document": ("setup.exe", EXE)}, "document", "is not a PDF, PNG"),
        ({"document": ("soc2.pdf", EXE)}, "document", "is not a PDF, PNG"),
        ({"kind": "gold_star"}, "kind", "not a valid choice"),
        ({"issuer": ""}, "issuer", "blank"),
    ],
)
def test_bad_certificates_are_400(api, it_reviewer, overrides, field, message):
    if "document" in overrides:
        overrides["document"] = SimpleUploadedFile(*overrides["document"])
    response = api.as_user(it_reviewer).post(
        url(VendorFactory(), "certificates"),
        certificate_payload(**overrides),
        format="multipart",
    )
    assert response.status_code == 400
    assert message in " ".join(response.json()[field])
    assert not Certificate.objects.exists()


# --- contracts ------------------------------------------------------------------------------


def test_procurement_records_a_contract_from_its_requests(api, procurement, cpo):
    vendor = VendorFactory()
    purchase_request = PurchaseRequestFactory(vendor=vendor, state=State.APPROVED)
    api.as_user(procurement)

    response = api.post(
        url(vendor, "contracts"),
        contract_payload(owner=cpo.username, requests=[purchase_request.pk]),
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["owner"], body["requests"], body["is_active"], body["annual_value"]) == (
        "cleo",
        [purchase_request.pk],
        True,
        "12000.00",
    )
    assert body["notice_date"] == (days(355) - timedelta(days=60)).isoformat()
    assert [c["id"] for c in api.get(url(vendor, "contracts")).json()] == [body["id"]]
    assert api.get(url(vendor)).json()["active_contracts"] == 1


def test_the_contract_owner_defaults_to_the_caller(api, procurement):
    vendor = VendorFactory()
    response = api.as_user(procurement).post(
        url(vendor, "contracts"), contract_payload(), format="json"
    )
    assert response.status_code == 201
    assert response.json()["owner"] == "paul"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"starts_on": days(10).isoformat(), "ends_on": days(5).isoformat()}, "ends_on"),
        ({"owner": "nobody"}, "owner"),
        ({"annual_value": "-1.00"}, "annual_value"),
        ({"title": ""}, "title"),
        ("another vendor's request", "requests"),
    ],
)
def test_bad_contracts_are_400(api, procurement, overrides, field):
    if overrides == "another vendor's request":
        overrides = {"requests": [PurchaseRequestFactory(state=State.APPROVED).pk]}
    response = api.as_user(procurement).post(
        url(VendorFactory(), "contracts"), contract_payload(**overrides), format="json"
    )
    assert response.status_code == 400
    assert field in response.json()
    assert not Contract.objects.exists()


# --- ratings --------------------------------------------------------------------------------


def test_the_requester_and_it_rate_the_vendor_after_closing(api, requester, cio, it_reviewer):
    vendor = VendorFactory()
    closed = PurchaseRequestFactory(requester=requester, vendor=vendor, state=State.CLOSED)

    by_requester = api.as_user(requester).post(
        url(vendor, "ratings"),
        {"request": closed.pk, "delivery": 5, "quality": 4, "support": 3, "comment": "On time"},
        format="json",
    )
    by_it = api.as_user(cio).post(
        url(vendor, "ratings"),
        {"request": closed.pk, "delivery": 4, "quality": 4, "support": 2},
        format="json",
    )

    assert (by_requester.status_code, by_it.status_code) == (201, 201)
    assert (by_requester.json()["request_number"], by_requester.json()["rater"]) == (
        closed.number,
        str(requester),
    )
    body = api.as_user(it_reviewer).get(url(vendor, "ratings")).json()
    assert (
        body["rating_count"],
        body["average_delivery"],
        body["average_quality"],
        body["average_support"],
    ) == (2, 4.5, 4.0, 2.5)
    assert {(r["rater"], r["comment"]) for r in body["ratings"]} == {
        (str(requester), "On time"),
        (str(cio), ""),
    }
    assert api.get(url(vendor)).json()["rating_count"] == 2


@pytest.mark.parametrize(
    ("scores", "field"),
    [
        ({"delivery": 0}, "delivery"),
        ({"quality": 6}, "quality"),
        ({"support": "great"}, "support"),
        ({"delivery": None}, "delivery"),
    ],
)
def test_ratings_outside_one_to_five_are_400(api, requester, scores, field):
    closed = PurchaseRequestFactory(requester=requester, state=State.CLOSED)
    response = api.as_user(requester).post(
        url(closed.vendor, "ratings"),
        {"request": closed.pk, "delivery": 3, "quality": 3, "support": 3, **scores},
        format="json",
    )
    assert response.status_code == 400
    assert field in response.json()
    assert not VendorRating.objects.exists()


def test_a_request_naming_another_vendor_is_400(api, requester, cio):
    closed = PurchaseRequestFactory(requester=requester, state=State.CLOSED)
    response = api.as_user(cio).post(
        url(VendorFactory(), "ratings"),
        {"request": closed.pk, "delivery": 3, "quality": 3, "support": 3},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"request": ["This request does not name this vendor."]}


def test_a_request_the_caller_cannot_see_is_404(api, requester, other_requester):
    closed = PurchaseRequestFactory(requester=requester, state=State.CLOSED)
    PurchaseRequestFactory(requester=other_requester, vendor=closed.vendor, state=State.CLOSED)
    response = api.as_user(other_requester).post(
        url(closed.vendor, "ratings"),
        {"request": closed.pk, "delivery": 3, "quality": 3, "support": 3},
        format="json",
    )
    assert response.status_code == 404


def test_a_requester_finds_no_vendor_their_requests_do_not_name(api, requester):
    closed = PurchaseRequestFactory(requester=requester, state=State.CLOSED)
    response = api.as_user(requester).post(
        url(VendorFactory(), "ratings"),
        {"request": closed.pk, "delivery": 3, "quality": 3, "support": 3},
        format="json",
    )
    assert response.status_code == 404


def test_rating_twice_is_409(api, requester):
    closed = PurchaseRequestFactory(requester=requester, state=State.CLOSED)
    api.as_user(requester)
    payload = {"request": closed.pk, "delivery": 3, "quality": 3, "support": 3}
    assert api.post(url(closed.vendor, "ratings"), payload, format="json").status_code == 201
    response = api.post(url(closed.vendor, "ratings"), payload, format="json")
    assert response.status_code == 409
    assert "already rated" in response.json()["detail"]
    assert VendorRating.objects.count() == 1


def test_rating_before_the_request_is_closed_is_403(api, requester):
    ordered = PurchaseRequestFactory(requester=requester, state=State.ORDERED)
    response = api.as_user(requester).post(
        url(ordered.vendor, "ratings"),
        {"request": ordered.pk, "delivery": 3, "quality": 3, "support": 3},
        format="json",
    )
    assert response.status_code == 403
    assert response.json()["detail"] == "The vendor is rated once the request is closed."


def test_procurement_does_not_rate_403(api, requester, procurement):
    closed = PurchaseRequestFactory(requester=requester, state=State.CLOSED)
    response = api.as_user(procurement).post(
        url(closed.vendor, "ratings"),
        {"request": closed.pk, "delivery": 3, "quality": 3, "support": 3},
        format="json",
    )
    assert response.status_code == 403
    assert response.json()["detail"] == "The requester and IT rate the vendor."
