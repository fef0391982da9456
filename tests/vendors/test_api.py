"""/api/vendors/ (SPEC §5, §7): records with their figures, the joint review, the security
questionnaire, certificates, contracts and ratings, with the status codes of §7."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from approvals.models import StepState
from audit.models import AuditEvent
from intake.models import State
from tests.factories import PurchaseRequestFactory, UserFactory, VendorFactory
from tests.intake.test_uploads import PDF, PNG
from vendors.models import (
    AnswerOption,
    Certificate,
    Contract,
    SecurityQuestion,
    Vendor,
    VendorAnswer,
    VendorRating,
)

pytestmark = pytest.mark.django_db

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48
UNKNOWN = 999_999


def url(vendor, action=""):
    pk = getattr(vendor, "pk", vendor)
    return f"/api/vendors/{pk}/" + (f"{action}/" if action else "")


def days(n):
    return timezone.localdate() + timedelta(days=n)


@pytest.fixture
def finance(db):
    return UserFactory(username="fiona", roles=["finance"])


def certificate(vendor, *, expires_in, by):
    return Certificate.objects.create(
        vendor=vendor,
        kind="iso27001",
        issuer="BSI",
        issued_on=days(expires_in - 365),
        expires_on=days(expires_in),
        uploaded_by=by,
    )


def contract(vendor, *, starts_in, ends_in, owner):
    return Contract.objects.create(
        vendor=vendor,
        title="Licences",
        starts_on=days(starts_in),
        ends_on=days(ends_in),
        annual_value=Decimal("1000"),
        owner=owner,
    )


def rating(vendor, *, delivery, quality, support):
    purchase_request = PurchaseRequestFactory(vendor=vendor, state=State.CLOSED)
    return VendorRating.objects.create(
        vendor=vendor,
        request=purchase_request,
        rater=purchase_request.requester,
        delivery=delivery,
        quality=quality,
        support=support,
    )


def certificate_payload(**overrides):
    return {
        "kind": "soc2_type2",
        "issuer": "Big Four LLP",
        "issued_on": days(-345).isoformat(),
        "expires_on": days(20).isoformat(),
        **overrides,
    }


def contract_payload(**overrides):
    return {
        "title": "Analytics platform",
        "starts_on": days(-10).isoformat(),
        "ends_on": days(355).isoformat(),
        "auto_renew": True,
        "notice_days": 60,
        "annual_value": "12000.00",
        "currency": "EUR",
        **overrides,
    }


def option_with_risk(question, risk):
    return AnswerOption.objects.get(question=question, risk=risk)


# --- list, retrieve ------------------------------------------------------------------------


def test_reviewers_list_vendors_with_their_figures(api, it_reviewer, procurement):
    acme = VendorFactory(name="Acme", risk_tier="high", risk_score=Decimal("61.0"))
    certificate(acme, expires_in=10, by=it_reviewer)
    contract(acme, starts_in=-10, ends_in=100, owner=procurement)
    contract(acme, starts_in=-400, ends_in=-40, owner=procurement)  # ended
    rating(acme, delivery=5, quality=4, support=3)
    rating(acme, delivery=4, quality=3, support=3)
    VendorFactory(name="Zeta", status="prospective")

    response = api.as_user(it_reviewer).get("/api/vendors/")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    first, second = body["results"]
    assert {
        key: first[key]
        for key in (
            "name",
            "status",
            "risk_tier",
            "risk_score",
            "has_expiring_certificate",
            "active_contracts",
            "rating_count",
            "average_delivery",
            "average_quality",
            "average_support",
        )
    } == {
        "name": "Acme",
        "status": "approved",
        "risk_tier": "high",
        "risk_score": 61.0,
        "has_expiring_certificate": True,
        "active_contracts": 1,
        "rating_count": 2,
        "average_delivery": 4.5,
        "average_quality": 3.5,
        "average_support": 3.0,
    }
    assert (second["name"], second["status"], second["has_expiring_certificate"]) == (
        "Zeta",
        "prospective",
        False,
    )
    assert (second["rating_count"], second["average_delivery"], second["risk_score"]) == (
        0,
        None,
        None,
    )
    detail = api.get(url(acme)).json()
    assert detail == first


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("status=prospective", ["Beta"]),
        ("status=prospective&status=rejected", ["Beta", "Gamma"]),
        ("risk_tier=critical", ["Beta"]),
        ("certificates_expiring=true", ["Acme"]),
        ("certificates_expiring=false", ["Beta", "Gamma"]),
        ("name=ACM", ["Acme"]),
    ],
)
def test_list_filters(api, procurement, query, names):
    acme = VendorFactory(name="Acme", risk_tier="low")
    certificate(acme, expires_in=5, by=procurement)
    VendorFactory(name="Beta", status="prospective", risk_tier="critical")
    gamma = VendorFactory(name="Gamma", status="rejected", risk_tier="medium")
    certificate(gamma, expires_in=90, by=procurement)  # not within 30 days

    response = api.as_user(procurement).get(f"/api/vendors/?{query}")

    assert response.status_code == 200
    assert [v["name"] for v in response.json()["results"]] == names


def test_an_unknown_filter_value_is_400(api, procurement):
    response = api.as_user(procurement).get("/api/vendors/?status=shiny")
    assert response.status_code == 400
    assert "status" in response.json()


def test_list_is_paginated(api, cio):
    VendorFactory.create_batch(3)
    body = api.as_user(cio).get("/api/vendors/?page_size=2").json()
    assert (body["count"], len(body["results"]), body["next"] is not None) == (3, 2, True)


@pytest.mark.parametrize("count", [5, 50])
def test_the_list_runs_the_same_queries_whatever_the_number_of_vendors(
    api, it_reviewer, procurement, django_assert_max_num_queries, count
):
    for vendor in VendorFactory.create_batch(count):
        certificate(vendor, expires_in=10, by=it_reviewer)
        contract(vendor, starts_in=-1, ends_in=100, owner=procurement)
    rating(Vendor.objects.first(), delivery=4, quality=4, support=4)
    api.as_user(it_reviewer)

    # token and user, the user's groups, the count, the page
    with django_assert_max_num_queries(4):
        response = api.get("/api/vendors/?page_size=100")

    assert response.status_code == 200
    assert len(response.json()["results"]) == count


# --- who may: 401, 403, 404, 405 -----------------------------------------------------------

ENDPOINTS = [
    ("get", ""),
    ("post", ""),
    ("get", "{id}/"),
    ("patch", "{id}/"),
    ("post", "{id}/start-review/"),
    ("get", "{id}/steps/"),
    ("get", "{id}/questionnaire/"),
    ("post", "{id}/questionnaire/"),
    ("get", "{id}/certificates/"),
    ("post", "{id}/certificates/"),
    ("get", "{id}/contracts/"),
    ("post", "{id}/contracts/"),
    ("get", "{id}/ratings/"),
    ("post", "{id}/ratings/"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_without_credentials_is_401(api, method, path):
    vendor = VendorFactory()
    response = getattr(api, method)("/api/vendors/" + path.format(id=vendor.pk), {}, format="json")
    assert response.status_code == 401


READS = [path for method, path in ENDPOINTS if method == "get"]


@pytest.mark.parametrize("path", READS)
def test_requesters_may_not_see_vendor_records(api, requester, path):
    vendor = VendorFactory()
    response = api.as_user(requester).get("/api/vendors/" + path.format(id=vendor.pk))
    assert response.status_code == 403
    assert (
        "Vendor records are for IT, procurement, finance and admins" in (response.json()["detail"])
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", ""),
        ("patch", "{id}/"),
        ("post", "{id}/start-review/"),
        ("post", "{id}/certificates/"),
        ("post", "{id}/contracts/"),
    ],
)
@pytest.mark.parametrize("who", ["requester", "finance"])
def test_only_it_and_procurement_change_vendor_records(api, request, who, method, path):
    vendor = VendorFactory(status="prospective")
    user = request.getfixturevalue(who)
    response = getattr(api.as_user(user), method)(
        "/api/vendors/" + path.format(id=vendor.pk), {"name": "Changed"}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["detail"] == "Only IT and procurement reviewers change vendor records."
    vendor.refresh_from_db()
    assert (vendor.name != "Changed", vendor.status) == (True, "prospective")
    assert not vendor.steps.exists()
    assert not vendor.certificates.exists() and not vendor.contracts.exists()


@pytest.mark.parametrize(("method", "path"), [e for e in ENDPOINTS if e[1]])
def test_an_unknown_vendor_is_404(api, admin_user, method, path):
    response = getattr(api.as_user(admin_user), method)(
        "/api/vendors/" + path.format(id=UNKNOWN), {}, format="json"
    )
    assert response.status_code == 404


@pytest.mark.parametrize("method", ["put", "delete"])
def test_vendors_are_not_replaced_or_deleted(api, admin_user, method):
    vendor = VendorFactory()
    response = getattr(api.as_user(admin_user), method)(url(vendor), {}, format="json")
    assert response.status_code == 405
    assert Vendor.objects.filter(pk=vendor.pk).exists()


# --- create, update ------------------------------------------------------------------------


def test_procurement_creates_a_prospective_vendor(api, procurement):
    response = api.as_user(procurement).post(
        "/api/vendors/",
        {
            "name": "Globex",
            "website": "https://globex.example",
            "country": "DE",
            "data_access_level": "confidential",
            "status": "approved",  # read-only: a new vendor is prospective
            "risk_tier": "low",  # read-only: set by the questionnaire
        },
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["name"], body["status"], body["risk_tier"], body["active_contracts"]) == (
        "Globex",
        "prospective",
        "",
        0,
    )
    vendor = Vendor.objects.get(pk=body["id"])
    assert (vendor.status, vendor.data_access_level) == ("prospective", "confidential")
    assert AuditEvent.objects.for_object(vendor).filter(kind="created", actor=procurement).exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "name"),
        ({"name": "Globex", "website": "not a url"}, "website"),
        ({"name": "Globex", "contact_email": "nobody"}, "contact_email"),
        ({"name": "Globex", "data_access_level": "everything"}, "data_access_level"),
    ],
)
def test_creating_with_bad_fields_is_400(api, it_reviewer, payload, field):
    response = api.as_user(it_reviewer).post("/api/vendors/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Vendor.objects.exists()


def test_a_vendor_name_is_unique_whatever_its_case(api, it_reviewer):
    VendorFactory(name="Globex")
    api.as_user(it_reviewer)
    response = api.post("/api/vendors/", {"name": "GLOBEX"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"name": ["A vendor with this name already exists."]}
    assert Vendor.objects.count() == 1
    other = VendorFactory(name="Initech")
    assert api.patch(url(other), {"name": "globex"}, format="json").status_code == 400
    assert api.patch(url(other), {"name": "INITECH"}, format="json").status_code == 200


def test_patch_changes_the_record_but_never_the_status(api, it_reviewer):
    vendor = VendorFactory(status="prospective", name="Acme")
    response = api.as_user(it_reviewer).patch(
        url(vendor),
        {"contact_email": "security@acme.example", "status": "approved", "risk_tier": "low"},
        format="json",
    )
    assert response.status_code == 200
    assert (response.json()["contact_email"], response.json()["status"]) == (
        "security@acme.example",
        "prospective",
    )
    vendor.refresh_from_db()
    assert (vendor.contact_email, vendor.status, vendor.risk_tier) == (
        "security@acme.example",
        "prospective",
        "",
    )
    event = AuditEvent.objects.for_object(vendor).get(kind="edited")
    assert event.payload["fields"] == ["contact_email"]


def test_patch_with_a_bad_field_is_400(api, procurement):
    vendor = VendorFactory()
    response = api.as_user(procurement).patch(url(vendor), {"website": "nope"}, format="json")
    assert response.status_code == 400
    assert "website" in response.json()


# --- the joint review ----------------------------------------------------------------------


def test_start_review_opens_both_sides(api, it_reviewer):
    vendor = VendorFactory(status="prospective")
    api.as_user(it_reviewer)

    response = api.post(url(vendor, "start-review"))

    assert response.status_code == 200
    assert response.json()["status"] == "under_review"
    steps = api.get(url(vendor, "steps")).json()
    assert {(s["side"], s["state"]) for s in steps} == {
        ("it", "open"),
        ("procurement", "open"),
    }
    assert {s["id"] for s in steps} == set(vendor.steps.values_list("pk", flat=True))


@pytest.mark.parametrize("status", ["approved", "suspended"])
def test_start_review_of_a_vendor_not_prospective_or_rejected_is_409(api, procurement, status):
    vendor = VendorFactory(status=status)
    response = api.as_user(procurement).post(url(vendor, "start-review"))
    assert response.status_code == 409
    assert "cannot be put under review" in response.json()["detail"]
    assert not vendor.steps.exists()


def test_a_vendor_under_review_without_steps_gets_them_and_a_second_start_is_409(api, procurement):
    """ "Under review" with no step is a dead end (nobody could decide it): starting adds the
    steps; once they are open, starting again is refused."""
    vendor = VendorFactory(status="under_review")
    api.as_user(procurement)
    assert api.post(url(vendor, "start-review")).status_code == 200
    assert set(vendor.steps.values_list("side", "state")) == {
        ("it", "open"),
        ("procurement", "open"),
    }
    again = api.post(url(vendor, "start-review"))
    assert again.status_code == 409
    assert "already under way" in again.json()["detail"]
    assert vendor.steps.count() == 2


def test_the_same_person_cannot_decide_both_sides_of_a_vendor_approval(api, it_reviewer):
    """API 403: IT security and procurement due diligence are decided by different people."""
    vendor = VendorFactory(status="prospective")
    assert api.as_user(it_reviewer).post(url(vendor, "start-review")).status_code == 200
    both = UserFactory(username="both", roles=["it_reviewers", "procurement"])
    api.as_user(both)

    approved = api.post(f"/api/steps/{vendor.steps.get(side='it').pk}/approve/", format="json")
    refused = api.post(
        f"/api/steps/{vendor.steps.get(side='procurement').pk}/approve/",
        {"comment": "Due diligence done"},
        format="json",
    )

    assert approved.status_code == 200
    assert refused.status_code == 403
    assert "needs a different person" in refused.json()["detail"]
    assert vendor.steps.get(side="procurement").state == StepState.OPEN
    assert api.get(url(vendor)).json()["status"] == "under_review"


def test_a_vendor_approved_by_both_sides_is_approved(api, it_reviewer, procurement):
    vendor = VendorFactory(status="prospective")
    api.as_user(procurement).post(url(vendor, "start-review"))
    steps = {s["side"]: s["id"] for s in api.get(url(vendor, "steps")).json()}

    it = api.as_user(it_reviewer).post(f"/api/steps/{steps['it']}/approve/", format="json")
    assert api.get(url(vendor)).json()["status"] == "under_review"
    procurement_side = api.as_user(procurement).post(
        f"/api/steps/{steps['procurement']}/approve/", format="json"
    )

    assert (it.status_code, procurement_side.status_code) == (200, 200)
    assert api.get(url(vendor)).json()["status"] == "approved"
    vendor.refresh_from_db()
    assert vendor.status == "approved"


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


# --- schema ---------------------------------------------------------------------------------


def test_the_schema_describes_the_vendor_paths(api, it_reviewer):
    response = api.as_user(it_reviewer).get("/api/schema/?format=json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path, methods in {
        "/api/vendors/": {"get", "post"},
        "/api/vendors/{id}/": {"get", "patch"},
        "/api/vendors/{id}/start-review/": {"post"},
        "/api/vendors/{id}/steps/": {"get"},
        "/api/vendors/{id}/questionnaire/": {"get", "post"},
        "/api/vendors/{id}/certificates/": {"get", "post"},
        "/api/vendors/{id}/certificates/{certificate_pk}/document/": {"get"},
        "/api/vendors/{id}/contracts/": {"get", "post"},
        "/api/vendors/{id}/ratings/": {"get", "post"},
    }.items():
        assert methods <= set(paths[path]), path
    certificate_body = paths["/api/vendors/{id}/certificates/"]["post"]["requestBody"]
    assert "multipart/form-data" in certificate_body["content"]
    list_parameters = {p["name"] for p in paths["/api/vendors/"]["get"]["parameters"]}
    assert {"status", "risk_tier", "certificates_expiring", "name", "page_size"} <= list_parameters
