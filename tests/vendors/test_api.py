"""/api/vendors/ (SPEC §5, §7): records with their figures, who may do what, create and
update, and the joint review, with the status codes of §7."""

from decimal import Decimal

import pytest

from approvals.models import StepState
from audit.models import AuditEvent
from tests.factories import UserFactory, VendorFactory
from tests.vendors.api_support import UNKNOWN, certificate, contract, rating, url
from vendors.models import (
    Vendor,
)

pytestmark = pytest.mark.django_db

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
