from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Delegation
from approvals import workflow
from approvals.models import ApprovalRule
from audit.models import AuditEvent
from tests.factories import CategoryFactory, PurchaseRequestFactory, UserFactory, VendorFactory

pytestmark = pytest.mark.django_db


def decide(api, step, decision, comment=""):
    return api.post(f"/api/steps/{step.pk}/{decision}/", {"comment": comment}, format="json")


def test_steps_of_a_request(api, submitted, requester, other_requester):
    purchase_request = submitted()
    response = api.as_user(requester).get(f"/api/requests/{purchase_request.pk}/steps/")
    assert response.status_code == 200
    assert {
        (s["side"], s["state"], s["reviewer"], s["reviewer_group"]) for s in response.json()
    } == {
        ("it", "open", "IT review", "it_reviewers"),
        ("procurement", "open", "Procurement", "procurement"),
    }
    assert (
        api.as_user(other_requester).get(f"/api/requests/{purchase_request.pk}/steps/").status_code
        == 404
    )


def test_approve_through_the_api(api, submitted, it_reviewer):
    step = submitted().steps.get(side="it")
    response = decide(api.as_user(it_reviewer), step, "approve", "Fine by security")
    assert response.status_code == 200
    assert (response.json()["state"], response.json()["decided_by"]) == (
        "approved",
        str(it_reviewer),
    )


def test_without_credentials_is_401(api, submitted):
    step = submitted().steps.get(side="it")
    assert decide(api, step, "approve").status_code == 401


def test_reject_without_comment_is_400(api, submitted, it_reviewer):
    step = submitted().steps.get(side="it")
    response = decide(api.as_user(it_reviewer), step, "reject")
    assert response.status_code == 400
    assert "comment" in response.json()


def test_request_changes(api, submitted, procurement):
    step = submitted().steps.get(side="procurement")
    response = decide(api.as_user(procurement), step, "request-changes", "Attach the quote")
    assert response.status_code == 200
    assert response.json()["state"] == "changes_requested"


def test_requester_deciding_own_step_is_403(api, submitted, requester):
    step = submitted().steps.get(side="it")
    response = decide(api.as_user(requester), step, "approve")
    assert response.status_code == 403
    assert "requester never decides" in response.json()["detail"]


def test_reviewer_of_another_group_is_403_and_says_why(api, submitted, procurement):
    step = submitted().steps.get(side="it")
    response = decide(api.as_user(procurement), step, "approve")
    assert response.status_code == 403
    assert "not in it" in response.json()["detail"]


def test_step_of_a_request_the_user_cannot_see_is_404(api, submitted, other_requester):
    step = submitted().steps.get(side="it")
    assert decide(api.as_user(other_requester), step, "approve").status_code == 404
    assert api.get(f"/api/steps/{step.pk}/").status_code == 404


def test_deciding_a_decided_step_is_409_saying_who(api, submitted, it_reviewer):
    colleague = UserFactory(username="colleague", roles=["it_reviewers"])
    step = submitted().steps.get(side="it")
    decide(api.as_user(it_reviewer), step, "approve")
    response = decide(api.as_user(colleague), step, "approve")
    assert response.status_code == 409
    assert f"already approved by {it_reviewer}" in response.json()["detail"]


def test_one_person_on_both_sides_is_403(api, submitted, group):
    both = UserFactory(username="both", roles=["it_reviewers", "procurement"])
    purchase_request = submitted()
    api.as_user(both)
    assert decide(api, purchase_request.steps.get(side="it"), "approve").status_code == 200
    response = decide(api, purchase_request.steps.get(side="procurement"), "approve")
    assert response.status_code == 403
    assert "different person" in response.json()["detail"]


def test_awaiting_me_filter(api, submitted, it_reviewer, procurement, requester):
    purchase_request = submitted()
    PurchaseRequestFactory(requester=requester)  # a draft waits on nobody
    api.as_user(it_reviewer)
    numbers = [r["number"] for r in api.get("/api/requests/?awaiting=me").json()["results"]]
    assert numbers == [purchase_request.number]
    decide(api, purchase_request.steps.get(side="it"), "approve")
    assert api.get("/api/requests/?awaiting=me").json()["results"] == []
    assert api.as_user(requester).get("/api/requests/?awaiting=me").json()["results"] == []
    assert api.get("/api/requests/?awaiting=you").status_code == 400


def test_awaiting_me_includes_delegated_steps(api, submitted, it_reviewer):
    stand_in = UserFactory(username="stand-in")
    now = timezone.now()
    Delegation.objects.create(
        delegator=it_reviewer, delegate=stand_in, starts_at=now, ends_at=now + timedelta(days=2)
    )
    purchase_request = submitted()
    body = api.as_user(stand_in).get("/api/requests/?awaiting=me").json()
    assert [r["number"] for r in body["results"]] == [purchase_request.number]


@pytest.mark.parametrize("size", [5, 50])
def test_awaiting_me_query_count_is_constant(api, it_reviewer, django_assert_max_num_queries, size):

    for _ in range(size):
        purchase_request = PurchaseRequestFactory()
        workflow.submit_request(purchase_request, by=purchase_request.requester)
    api.as_user(it_reviewer)
    # token, groups, delegations, a page of steps (keyset), requests, their open steps, the
    # people of those steps' groups ("waiting on"), items
    with django_assert_max_num_queries(8):
        response = api.get("/api/requests/?awaiting=me&page_size=50")
    assert len(response.json()["results"]) == size


# Rules


RULE = {
    "name": "CIO above 25k",
    "min_total": "25000.00",
    "reviewer_group": "cio",
    "side": "it",
    "stage": 2,
    "categories": ["saas-subscription"],
}


def test_rules_are_for_admins_only(api, requester, cio):
    assert api.get("/api/rules/").status_code == 401
    assert api.as_user(requester).get("/api/rules/").status_code == 403
    assert api.as_user(cio).post("/api/rules/", RULE, format="json").status_code == 403


def test_admin_creates_and_changes_a_rule_with_audit_events(api, admin_user):
    CategoryFactory()
    api.as_user(admin_user)
    response = api.post("/api/rules/", RULE, format="json")
    assert response.status_code == 201, response.json()
    rule = ApprovalRule.objects.get(name="CIO above 25k")
    assert list(rule.categories.values_list("slug", flat=True)) == ["saas-subscription"]
    response = api.patch(f"/api/rules/{rule.pk}/", {"active": False}, format="json")
    assert response.status_code == 200
    kinds = list(AuditEvent.objects.for_object(rule).values_list("kind", flat=True))
    assert kinds == ["rule_created", "rule_changed"]
    assert api.delete(f"/api/rules/{rule.pk}/").status_code == 204
    assert api.get(f"/api/rules/{rule.pk}/").status_code == 404


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**RULE, "reviewer_group": None}, "reviewer_group"),
        ({**RULE, "side": ""}, "side"),
        ({**RULE, "max_total": "100.00"}, "max_total"),
        ({**RULE, "data_classifications": ["secret"]}, "data_classifications"),
        ({**RULE, "vendor_statuses": "approved"}, "vendor_statuses"),
        ({**RULE, "reviewer_group": "no-such-group"}, "reviewer_group"),
        ({**RULE, "stage": 0}, "stage"),
    ],
)
def test_invalid_rule_is_400_with_field_errors(api, admin_user, payload, field):
    CategoryFactory()
    response = api.as_user(admin_user).post("/api/rules/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_preview_for_a_draft_payload(api, it_reviewer, group):
    ApprovalRule.objects.create(
        name="Personal data needs the CIO",
        personal_data=True,
        reviewer_group=group("cio"),
        side="it",
        stage=2,
    )
    response = api.as_user(it_reviewer).post(
        "/api/rules/preview/", {"total": "30000", "personal_data": True}, format="json"
    )
    assert response.status_code == 200
    steps = response.json()["steps"]
    cio = next(s for s in steps if s["reviewer"] == "CIO")
    assert cio["stage"] == 2
    assert "Personal data needs the CIO: handles personal data" in cio["reasons"]


def test_preview_for_an_existing_request(api, requester, admin_user):
    purchase_request = PurchaseRequestFactory(
        requester=requester, vendor=VendorFactory(status="prospective"), total_cost=Decimal("10")
    )
    response = api.as_user(admin_user).post(
        "/api/rules/preview/", {"request": purchase_request.pk}, format="json"
    )
    assert response.status_code == 200
    assert {s["side"] for s in response.json()["steps"]} == {"it", "procurement"}


def test_preview_permissions_and_errors(api, requester, it_reviewer, other_requester):
    theirs = PurchaseRequestFactory(requester=other_requester)
    assert api.post("/api/rules/preview/", {}).status_code == 401
    assert api.as_user(requester).post("/api/rules/preview/", {}, format="json").status_code == 403
    api.as_user(it_reviewer)
    assert api.post("/api/rules/preview/", {"request": theirs.pk}, format="json").status_code == 404
    assert api.post("/api/rules/preview/", {"total": "lots"}, format="json").status_code == 400


def test_awaiting_me_is_most_urgent_first_and_pages_by_cursor(api, it_reviewer, requester):
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    filed = []
    for days_ago in (1, 3, 2):
        with time_machine.travel(timezone.now() - timedelta(days=days_ago)):
            draft = PurchaseRequestFactory(requester=requester)
            filed.append(workflow.submit_request(draft, by=requester))
    api.as_user(it_reviewer)
    first = api.get("/api/requests/?awaiting=me&page_size=2").json()
    assert [r["number"] for r in first["results"]] == [filed[1].number, filed[2].number]
    second = api.get(first["next"]).json()
    assert [r["number"] for r in second["results"]] == [filed[0].number]
    assert second["next"] is None
