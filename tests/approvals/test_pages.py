from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.utils import timezone

from approvals import workflow
from approvals.models import StepState
from approvals.views import PAGE_SIZE
from approvals.workflow import submit_request
from intake.models import State
from tests.factories import PurchaseRequestFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_waiting_for_me_lists_open_steps_by_due_time_and_flags_overdue(
    client, submitted, it_reviewer
):
    with time_machine.travel(timezone.now() - timedelta(days=3)):
        older = submitted(title="Older request")
    newer = submitted(title="Newer request")
    client.force_login(it_reviewer)
    page = client.get("/approvals/").content.decode()
    assert page.index(older.number) < page.index(newer.number)
    assert f'data-number="{older.number}" class="table-danger" data-overdue="true"' in page
    assert f'data-number="{newer.number}" class="table-danger"' not in page


def test_waiting_for_me_leaves_out_own_requests_and_other_groups(
    client, submitted, procurement, requester
):
    """Rita is an IT reviewer too: her own request's IT step is still not hers to decide, and
    the procurement step is not her group's."""
    requester.groups.add(Group.objects.get(name="it_reviewers"))
    own = submitted()
    others = PurchaseRequestFactory(requester=procurement)
    submit_request(others, by=procurement)
    client.force_login(requester)
    page = client.get("/approvals/").content.decode()
    assert own.number not in page
    assert f'data-number="{others.number}"' in page
    assert page.count("data-number=") == 1


def test_team_view_for_leaders_with_ageing_and_breaches(client, submitted, cio, it_reviewer):
    with time_machine.travel(timezone.now() - timedelta(days=6)):
        submitted()
    submitted()
    client.force_login(cio)
    response = client.get("/approvals/")
    ageing = {row["label"]: (row["count"], row["breached"]) for row in response.context["ageing"]}
    assert ageing == {"under 2 days": (2, 0), "2–5 days": (0, 0), "over 5 days": (2, 2)}
    assert "SLA breached" in response.content.decode()
    client.force_login(it_reviewer)
    assert client.get("/approvals/").context.get("ageing") is None


def test_decide_from_the_request_page(client, submitted, it_reviewer):
    purchase_request = submitted()
    client.force_login(it_reviewer)
    page = client.get(f"/requests/{purchase_request.pk}/").content.decode()
    assert "Approve" in page and "Request changes" in page
    step = purchase_request.steps.get(side="it")
    response = client.post(f"/approvals/steps/{step.pk}/approve/", {"comment": "OK"}, follow=True)
    assert "IT review step approved" in response.content.decode()
    step.refresh_from_db()
    assert step.state == StepState.APPROVED


def test_page_says_why_the_decision_buttons_are_absent(client, submitted, procurement):
    both = UserFactory(username="both", roles=["it_reviewers", "procurement"])
    purchase_request = submitted()
    client.force_login(both)
    client.post(f"/approvals/steps/{purchase_request.steps.get(side='it').pk}/approve/")
    page = client.get(f"/requests/{purchase_request.pk}/").content.decode()
    assert "needs a different person (four eyes)" in page


def test_reject_without_comment_is_explained_and_nothing_changes(client, submitted, it_reviewer):
    purchase_request = submitted()
    step = purchase_request.steps.get(side="it")
    client.force_login(it_reviewer)
    response = client.post(f"/approvals/steps/{step.pk}/reject/", {"comment": ""}, follow=True)
    assert "a comment is required" in response.content.decode()
    purchase_request.refresh_from_db()
    assert purchase_request.state == State.IN_REVIEW


def test_unknown_step_or_decision_is_404(client, submitted, it_reviewer, other_requester):
    step = submitted().steps.get(side="it")
    client.force_login(it_reviewer)
    assert client.post(f"/approvals/steps/{step.pk}/veto/").status_code == 404
    client.force_login(other_requester)
    assert client.post(f"/approvals/steps/{step.pk}/approve/").status_code == 404


def test_rule_preview_page(client, submitted, it_reviewer, requester):
    purchase_request = submitted()
    client.force_login(it_reviewer)
    page = client.get(
        "/approvals/rules/preview/", {"number": purchase_request.number}
    ).content.decode()
    assert "Default IT review: baseline IT review of every routed request" in page
    page = client.get("/approvals/rules/preview/", {"number": "PR-1999-00001"}).content.decode()
    assert "No request PR-1999-00001 that you may see." in page
    client.force_login(requester)
    assert client.get("/approvals/rules/preview/").status_code == 403


@pytest.mark.parametrize("size", [5, 30])
def test_waiting_for_me_query_count_is_constant(
    client, it_reviewer, cio, django_assert_max_num_queries, size
):

    for _ in range(size):
        purchase_request = PurchaseRequestFactory()
        workflow.submit_request(purchase_request, by=purchase_request.requester)
    client.force_login(cio)
    # session, user, groups, delegations, notices read, the steps the user holds, two keyset
    # pages of steps, the holders' names, the breakdown by stage and side, ageing, questions for
    # me, the count in the navigation, the unread bell and the categories of the filter
    with django_assert_max_num_queries(15):
        assert client.get("/approvals/").status_code == 200


def test_waiting_for_me_pages_by_keyset(client, it_reviewer, requester):

    for _ in range(PAGE_SIZE + 2):
        workflow.submit_request(PurchaseRequestFactory(requester=requester), by=requester)
    client.force_login(it_reviewer)
    first = client.get("/approvals/")
    assert len(first.context["page"].rows) == PAGE_SIZE
    token = first.context["page"].next_after
    second = client.get("/approvals/", {"after": token})
    assert len(second.context["page"].rows) == 2
    assert second.context["page"].next_after is None
    seen = {s.pk for s in first.context["page"].rows} | {s.pk for s in second.context["page"].rows}
    assert len(seen) == PAGE_SIZE + 2
    assert client.get("/approvals/", {"after": "garbage"}).status_code == 200
