"""The pages of rule changes (issue #32): admins only; the author cannot approve their own
change (403, as the API); a second admin can."""

import pytest

from approvals import rule_drafts, rule_versions
from approvals.models import ApprovalRule, DraftState, RuleDraft
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ada():
    return UserFactory(username="ada", is_staff=True, is_superuser=True)


@pytest.fixture
def bob():
    return UserFactory(username="bob", is_staff=True, is_superuser=True)


def test_only_admins_see_the_rule_versions(client, ada, requester):
    client.force_login(requester)
    assert client.get("/approvals/rules/versions/").status_code == 403
    client.force_login(ada)
    page = client.get("/approvals/rules/versions/")
    assert page.status_code == 200
    number = rule_versions.latest_version().number
    assert f"Version {number}" in page.content.decode()
    assert client.get(f"/approvals/rules/versions/{number}/").status_code == 200
    assert client.get("/approvals/rules/versions/compare/?from=1&to=1").status_code == 200
    assert client.get("/approvals/rules/versions/999/").status_code == 404


def test_an_admin_edits_a_draft_rule_on_its_page_and_the_live_rule_stays(
    client, ada, django_capture_on_commit_callbacks
):
    client.force_login(ada)
    response = client.post("/approvals/rules/drafts/new/", {"reason": "Longer SLA"})
    draft = RuleDraft.objects.get()
    assert response.url == f"/approvals/rules/drafts/{draft.pk}/"
    rule = ApprovalRule.objects.get(name="Default IT review")
    form = client.get(f"/approvals/rules/drafts/{draft.pk}/rules/{rule.pk}/")
    assert form.status_code == 200
    data = {
        "name": rule.name, "active": "on", "kind": rule.kind, "personal_data": "unknown",
        "over_budget": "unknown", "reviewer_group": rule.reviewer_group_id, "side": rule.side,
        "stage": 1, "sla_hours": 72, "repeat_every_hours": 24, "escalate_after_hours": 96,
        "escalation_group": rule.escalation_group_id or "",
    }  # fmt: skip
    response = client.post(f"/approvals/rules/drafts/{draft.pk}/rules/{rule.pk}/", data)
    assert response.status_code == 302
    page = client.get(f"/approvals/rules/drafts/{draft.pk}/").content.decode()
    assert "Default IT review: reminder after (hours) 48 → 72" in page
    assert ApprovalRule.objects.get(pk=rule.pk).sla_hours == 48
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/approvals/rules/drafts/{draft.pk}/backtest/")
    assert (
        'role="progressbar"'
        in client.get(f"/approvals/rules/drafts/{draft.pk}/backtest/progress/").content.decode()
    )
    client.post(f"/approvals/rules/drafts/{draft.pk}/submit/")
    assert RuleDraft.objects.get().state == DraftState.SUBMITTED


def test_the_author_cannot_approve_by_the_page_a_second_admin_can(
    client, ada, bob, django_capture_on_commit_callbacks
):
    draft = rule_drafts.start_draft(by=ada)
    rule = ApprovalRule.objects.get(name="Default IT review")
    draft.rules = [{**r, "sla_hours": 24} if r["id"] == rule.pk else r for r in draft.rules]
    draft.save()
    with django_capture_on_commit_callbacks(execute=True):
        rule_drafts.start_backtest(draft, by=ada)
    rule_drafts.submit_draft(RuleDraft.objects.get(pk=draft.pk), by=ada)
    client.force_login(ada)
    assert client.post(f"/approvals/rules/drafts/{draft.pk}/approve/").status_code == 403
    client.force_login(bob)
    page = client.get(f"/approvals/rules/drafts/{draft.pk}/").content.decode()
    assert "Approve and publish" in page
    client.post(f"/approvals/rules/drafts/{draft.pk}/approve/")
    assert RuleDraft.objects.get().state == DraftState.PUBLISHED
    assert ApprovalRule.objects.get(pk=rule.pk).sla_hours == 24


def test_the_admin_index_and_rule_list_link_to_the_rule_changes(client, ada):
    client.force_login(ada)
    assert "/approvals/rules/versions/" in client.get("/admin/").content.decode()
    changelist = client.get("/admin/approvals/approvalrule/").content.decode()
    assert "/approvals/rules/versions/" in changelist
