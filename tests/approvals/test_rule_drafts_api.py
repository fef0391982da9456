"""The API of rule changes (issue #32): versions, drafts, backtest, submit, approve and the
emergency publication, with 201, 400, 401/403, 404 and 409."""

from decimal import Decimal

import pytest

from approvals import rule_versions
from approvals.models import ApprovalRule, DraftState
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ada():
    return UserFactory(username="ada", is_staff=True, is_superuser=True)


@pytest.fixture
def bob():
    return UserFactory(username="bob", is_staff=True, is_superuser=True)


def _raised(rules: list[dict], name: str, to: str) -> list[dict]:
    return [{**r, "min_total": to} if r["name"] == name else r for r in rules]


@pytest.fixture
def cio_rule(group):
    return ApprovalRule.objects.create(
        name="CIO sign-off", min_total=Decimal("25000"), reviewer_group=group("cio"),
        side="it", stage=2,
    )  # fmt: skip


def test_versions_are_listed_for_admins_only(api, ada, requester):
    assert api.get("/api/rule-versions/").status_code in (401, 403)
    api.force_authenticate(requester)
    assert api.get("/api/rule-versions/").status_code == 403
    api.force_authenticate(ada)
    version = rule_versions.current_version()
    listed = api.get("/api/rule-versions/")
    assert listed.status_code == 200
    assert version.number in [row["number"] for row in listed.json()["results"]]
    assert api.get(f"/api/rule-versions/{version.number}/").json()["rules"] == version.rules
    assert api.get("/api/rule-versions/9999/").status_code == 404


def test_unauthenticated_is_401(api):
    assert api.post("/api/rule-drafts/", {}, format="json").status_code == 401


def test_a_draft_through_the_api_backtested_submitted_and_approved_by_a_second_admin(
    api, ada, bob, cio_rule, django_capture_on_commit_callbacks
):
    api.force_authenticate(ada)
    rules = rule_versions.current_version().rules
    created = api.post(
        "/api/rule-drafts/",
        {"reason": "Fewer CIO steps", "rules": _raised(rules, "CIO sign-off", "50000.00")},
        format="json",
    )
    assert created.status_code == 201, created.json()
    draft = created.json()
    assert draft["changes"] == ["CIO sign-off: total cost from 25,000.00 EUR → from 50,000.00 EUR"]
    url = f"/api/rule-drafts/{draft['id']}"

    assert api.post(f"{url}/submit/").status_code == 409  # no backtest yet
    assert api.post(f"{url}/approve/").status_code == 403  # the author
    api.force_authenticate(bob)
    assert api.post(f"{url}/approve/").status_code == 409  # not submitted
    api.force_authenticate(ada)
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(f"{url}/backtest/").status_code == 202
    shown = api.get(f"{url}/").json()
    assert shown["backtest"]["state"] == "done" and shown["backtest"]["current"]
    submitted = api.post(f"{url}/submit/")
    assert submitted.status_code == 200 and submitted.json()["state"] == DraftState.SUBMITTED
    assert api.post(f"{url}/approve/").status_code == 403
    api.force_authenticate(bob)
    approved = api.post(f"{url}/approve/")
    assert approved.status_code == 200
    assert approved.json()["state"] == DraftState.PUBLISHED
    assert approved.json()["published_version"] == rule_versions.latest_version().number
    assert ApprovalRule.objects.get(pk=cio_rule.pk).min_total == Decimal("50000")
    assert api.post("/api/rule-drafts/9999/approve/").status_code == 404


def test_invalid_rules_are_400(api, ada, cio_rule):
    api.force_authenticate(ada)
    rules = rule_versions.current_version().rules
    bad = [{**r, "side": "marketing"} if r["name"] == "CIO sign-off" else r for r in rules]
    response = api.post("/api/rule-drafts/", {"rules": bad}, format="json")
    assert response.status_code == 400
    assert "rules" in response.json()
    assert (
        api.post("/api/rule-drafts/", {"rules": [{"name": "x"}]}, format="json").status_code == 400
    )
    assert api.post("/api/rule-drafts/", {"from_version": 999}, format="json").status_code == 400
    for nonsense in (
        "x",
        [1],
        [{**rules[0], "name": ["x"]}],
        [{**rules[0], "category_ids": [{}]}],
        [{**rules[0], "reviewer_group_id": "cio"}],
        [{**rules[0], "min_total": [1]}],
    ):
        response = api.post("/api/rule-drafts/", {"rules": nonsense}, format="json")
        assert response.status_code == 400, nonsense
    assert api.post("/api/rule-drafts/", {"from_version": 2**40}, format="json").status_code == 400


def test_an_emergency_publication_needs_a_reason(api, ada, cio_rule):
    api.force_authenticate(ada)
    rules = rule_versions.current_version().rules
    draft = api.post(
        "/api/rule-drafts/", {"rules": _raised(rules, "CIO sign-off", "40000")}, format="json"
    ).json()
    assert (
        api.post(f"/api/rule-drafts/{draft['id']}/publish/", {}, format="json").status_code == 400
    )
    published = api.post(
        f"/api/rule-drafts/{draft['id']}/publish/", {"reason": "The CIO is away"}, format="json"
    )
    assert published.status_code == 200
    assert published.json()["emergency_reason"] == "The CIO is away"
    assert ApprovalRule.objects.get(pk=cio_rule.pk).min_total == Decimal("40000")
    again = api.post(f"/api/rule-drafts/{draft['id']}/publish/", {"reason": "x"}, format="json")
    assert again.status_code == 409
