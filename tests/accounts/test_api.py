"""The API a client needs (issue 18 §5): categories, the caller's delegations."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Delegation
from intake.models import Category
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def iso(days):
    return (timezone.now() + timedelta(days=days)).isoformat()


def test_categories_lists_the_active_ones_with_the_id_requests_use(api, requester):
    Category.objects.create(name="Retired", slug="retired", active=False)
    response = api.as_user(requester).get("/api/categories/")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert "retired" not in {row["slug"] for row in rows}
    saas = next(row for row in rows if row["slug"] == "saas-subscription")
    assert saas["id"] == Category.objects.get(slug="saas-subscription").pk
    assert set(saas) == {"id", "name", "slug", "is_catalog"}


def test_categories_need_sign_in_and_are_read_only(api, requester):
    assert api.get("/api/categories/").status_code == 401
    assert api.as_user(requester).post("/api/categories/", {"name": "x"}).status_code == 405


def test_categories_list_in_constant_queries(api, requester, django_assert_max_num_queries):
    for n in range(20):
        Category.objects.create(name=f"Extra {n}", slug=f"extra-{n}")
    api.as_user(requester)
    with django_assert_max_num_queries(4):
        assert api.get("/api/categories/?page_size=100").status_code == 200


def test_a_delegation_is_created_listed_and_ended(api, it_reviewer):
    stand_in = UserFactory(username="stand-in")
    api.as_user(it_reviewer)
    response = api.post(
        "/api/delegations/", {"delegate": stand_in.pk, "ends_at": iso(5)}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["delegate"]["username"] == "stand-in" and body["active"] is True
    assert body["delegator"]["id"] == it_reviewer.pk
    listed = api.get("/api/delegations/").json()["results"]
    assert [row["id"] for row in listed] == [body["id"]]
    # The delegate sees it too, but cannot end it.
    api.as_user(stand_in)
    assert [r["id"] for r in api.get("/api/delegations/").json()["results"]] == [body["id"]]
    assert api.post(f"/api/delegations/{body['id']}/end/").status_code == 403
    api.as_user(it_reviewer)
    ended = api.post(f"/api/delegations/{body['id']}/end/")
    assert ended.status_code == 200 and ended.json()["active"] is False
    assert Delegation.objects.get().ends_at <= timezone.now()
    again = api.post(f"/api/delegations/{body['id']}/end/")
    assert again.status_code == 409 and "already ended" in again.json()["detail"]


def test_ending_a_future_delegation_removes_it(api, it_reviewer):
    stand_in = UserFactory(username="stand-in")
    api.as_user(it_reviewer)
    created = api.post(
        "/api/delegations/",
        {"delegate": stand_in.pk, "starts_at": iso(2), "ends_at": iso(5)},
        format="json",
    ).json()
    assert created["active"] is False
    assert api.post(f"/api/delegations/{created['id']}/end/").status_code == 204
    assert not Delegation.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"ends_at": iso(5)}, "delegate", "required"),
        ({"delegate": 999999, "ends_at": iso(5)}, "delegate", "Invalid pk"),
        ({"delegate": "abc", "ends_at": iso(5)}, "delegate", "Incorrect type"),
        ({"delegate": "self", "ends_at": iso(5)}, "delegate", "somebody else"),
        ({"delegate": "other", "starts_at": iso(5), "ends_at": iso(1)}, "ends_at", "after it"),
        ({"delegate": "other", "ends_at": iso(-1)}, "ends_at", "in the future"),
        ({"delegate": "other", "ends_at": "3026-01-01T00:00:00Z"}, "ends_at", "between 2000"),
        ({"delegate": "other", "ends_at": "tomorrow"}, "ends_at", "format"),
    ],
)
def test_bad_delegations_are_400_naming_the_field(api, it_reviewer, payload, field, message):
    other = UserFactory(username="other")
    ids = {"self": it_reviewer.pk, "other": other.pk}
    payload = {**payload, "delegate": ids.get(payload.get("delegate"), payload.get("delegate"))}
    if payload["delegate"] is None:
        del payload["delegate"]
    response = api.as_user(it_reviewer).post("/api/delegations/", payload, format="json")
    assert response.status_code == 400
    assert message in " ".join(response.json()[field])
    assert not Delegation.objects.exists()


def test_other_peoples_delegations_are_404(api, it_reviewer, requester):
    stand_in = UserFactory(username="stand-in")
    now = timezone.now()
    theirs = Delegation.objects.create(
        delegator=it_reviewer, delegate=stand_in, starts_at=now, ends_at=now + timedelta(days=1)
    )
    api.as_user(requester)
    assert api.get("/api/delegations/").json()["results"] == []
    assert api.get(f"/api/delegations/{theirs.pk}/").status_code == 404
    assert api.post(f"/api/delegations/{theirs.pk}/end/").status_code == 404
    assert api.post("/api/delegations/", {}, format="json").status_code == 400
    api.credentials()
    assert api.get("/api/delegations/").status_code == 401


def test_delegations_list_in_constant_queries(api, it_reviewer, django_assert_max_num_queries):
    now = timezone.now()
    for n in range(15):
        Delegation.objects.create(
            delegator=it_reviewer,
            delegate=UserFactory(username=f"s{n}"),
            starts_at=now + timedelta(days=n),
            ends_at=now + timedelta(days=n + 1),
        )
    api.as_user(it_reviewer)
    with django_assert_max_num_queries(5):
        assert len(api.get("/api/delegations/").json()["results"]) == 15


def test_a_delegate_who_can_no_longer_sign_in_is_400(api, it_reviewer):
    gone = UserFactory(username="gone", is_active=False)
    response = api.as_user(it_reviewer).post(
        "/api/delegations/", {"delegate": gone.pk, "ends_at": iso(5)}, format="json"
    )
    assert response.status_code == 400
    assert "can no longer sign in" in " ".join(response.json()["delegate"])
    assert not Delegation.objects.exists()
