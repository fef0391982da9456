"""The reviewer's queue (issue 14, item 5): columns, filters, sorting with keyset pages, the
count in the navigation, "next" after a decision, and the leaders' team view naming who holds
each step with a drill-down by stage and side."""

import re
from datetime import timedelta
from decimal import Decimal
from urllib.parse import quote

import pytest
import time_machine
from django.utils import timezone

from accounts import roles
from approvals import workflow
from approvals.models import StepState
from approvals.views import PAGE_SIZE
from tests.factories import CategoryFactory, PurchaseRequestFactory, UserFactory, VendorFactory

pytestmark = pytest.mark.django_db


def html(response) -> str:
    return response.content.decode()


def numbers(page: str) -> list[str]:
    return re.findall(r'<tr data-number="([^"]+)"', page)


@pytest.fixture
def queue(submitted):
    """Three requests waiting for IT: an old cheap one (overdue), a costly one with personal
    data from a vendor of high risk, and a recent hardware one."""
    hardware = CategoryFactory(name="Hardware Q", slug="hardware-q")
    with time_machine.travel(timezone.now() - timedelta(days=4)):
        old = submitted(title="Old licences", total_cost=Decimal("100.00"))
    with time_machine.travel(timezone.now() - timedelta(hours=5)):
        costly = submitted(
            title="Analytics platform",
            vendor=VendorFactory(name="Risky Ltd", status="approved", risk_tier="high"),
            handles_personal_data=True,
            total_cost=Decimal("9000.00"),
        )
    recent = submitted(title="Laptops", category=hardware, total_cost=Decimal("3000.00"))
    return {"old": old, "costly": costly, "recent": recent, "hardware": hardware}


def test_the_queue_shows_the_columns_a_reviewer_decides_by(client, queue, it_reviewer):
    client.force_login(it_reviewer)
    page = html(client.get("/approvals/"))
    for column in ("Vendor", "Category", "Risk tier", "Personal data", "Waiting", "Due", "Cost"):
        assert '<th scope="col"' in page and f">{column}</th>" in page
    row = re.search(rf'<tr data-number="{queue["costly"].number}".*?</tr>', page, re.S).group()
    assert "Risky Ltd" in row
    assert 'data-tier="high"' in row
    assert '<td data-label="Personal data">Yes</td>' in row
    assert "9,000.00 EUR" in row
    assert re.search(r"<td data-label=\"Waiting\"[^>]*>[45]\xa0hours", row), row
    old = re.search(rf'<tr data-number="{queue["old"].number}".*?</tr>', page, re.S).group()
    assert 'data-overdue="true"' in old and "overdue</span>" in old


def test_filters_narrow_the_queue(client, queue, it_reviewer, procurement):
    client.force_login(it_reviewer)
    assert numbers(html(client.get("/approvals/", {"category": "hardware-q"}))) == [
        queue["recent"].number
    ]
    assert numbers(html(client.get("/approvals/", {"overdue": "on"}))) == [queue["old"].number]
    assert numbers(html(client.get("/approvals/", {"side": "procurement"}))) == []
    page = html(client.get("/approvals/", {"side": "procurement"}))
    assert "No step waiting for you matches these filters." in page
    client.force_login(procurement)
    assert len(numbers(html(client.get("/approvals/", {"side": "procurement"})))) == 3


def test_invalid_filters_are_named_and_left_out(client, queue, it_reviewer):
    client.force_login(it_reviewer)
    response = client.get("/approvals/", {"category": "nope", "sort": "x", "side": "y"})
    assert response.status_code == 200
    page = html(response)
    assert "Category: Select a valid choice." in page
    assert "These filters are left out." in page
    assert len(numbers(page)) == 3


def test_sorting_by_age_and_by_cost(client, queue, it_reviewer):
    client.force_login(it_reviewer)
    by_due = numbers(html(client.get("/approvals/")))
    assert by_due == [queue["old"].number, queue["costly"].number, queue["recent"].number]
    by_cost = numbers(html(client.get("/approvals/", {"sort": "cost"})))
    assert by_cost == [queue["costly"].number, queue["recent"].number, queue["old"].number]
    by_age = numbers(html(client.get("/approvals/", {"sort": "oldest"})))
    assert by_age == [queue["old"].number, queue["costly"].number, queue["recent"].number]


@pytest.mark.parametrize("sort", ["due", "oldest", "cost"])
def test_every_order_pages_by_keyset_without_gaps(client, requester, it_reviewer, sort):

    for index in range(PAGE_SIZE + 3):
        workflow.submit_request(
            PurchaseRequestFactory(
                requester=requester, total_cost=Decimal(f"{100 + index % 7}.00")
            ),
            by=requester,
        )
    client.force_login(it_reviewer)
    first = client.get("/approvals/", {"sort": sort})
    token = first.context["page"].next_after
    assert len(first.context["page"].rows) == PAGE_SIZE and token
    assert f"sort={sort}&amp;after=" in html(first) or sort == "due"
    second = client.get("/approvals/", {"sort": sort, "after": token})
    rows = first.context["page"].rows + second.context["page"].rows
    assert len({step.pk for step in rows}) == PAGE_SIZE + 3
    if sort == "cost":
        costs = [step.request.total_cost_base for step in rows]
        assert costs == sorted(costs, reverse=True)
    assert client.get("/approvals/", {"sort": sort, "after": "x_y"}).status_code == 200


def test_the_navigation_counts_the_steps_waiting(client, queue, it_reviewer, requester):
    client.force_login(it_reviewer)
    page = html(client.get("/requests/"))
    assert re.search(r'Waiting for me <span [^>]*id="waiting-count">3</span>', page)
    client.force_login(requester)  # nothing waits for a requester: no badge
    assert 'id="waiting-count"' not in html(client.get("/requests/"))


def test_after_a_decision_from_the_queue_next_goes_to_the_next_step(client, queue, it_reviewer):
    client.force_login(it_reviewer)
    first = queue["old"].steps.get(side="it")
    # The queue's link carries the queue; the decision form keeps it.
    page = html(client.get(f"/requests/{queue['old'].pk}/", {"queue": ""}))
    assert '<input type="hidden" name="queue" value="">' in page
    assert "Back to Waiting for me" in page

    response = client.post(
        f"/approvals/steps/{first.pk}/approve/", {"comment": "Fine", "queue": ""}, follow=True
    )
    # The outcome on the request's page, and "Next in your queue" on it.
    assert response.redirect_chain == [(f"/requests/{queue['old'].pk}/?queue=#steps", 302)]
    first.refresh_from_db()
    assert first.state == StepState.APPROVED
    page = html(response)
    assert "step approved" in page
    # "Next in your queue" (j) goes on from where the decided request stood in the queue.
    next_link = re.search(r'id="next-in-queue"[^>]* href="([^"]+)"', page).group(1)
    assert (
        next_link == f"/approvals/queue/step/?from=request:{queue['old'].pk}&amp;to=next&amp;queue="
    )
    response = client.get(next_link.replace("&amp;", "&"))
    assert response["Location"] == f"/requests/{queue['costly'].pk}/?queue="
    response = client.get(
        "/approvals/queue/next/", {"queue": "", "seen": f"request:{queue['old'].pk}"}
    )
    assert response["Location"] == f"/requests/{queue['costly'].pk}/?queue=#steps"

    # With filters: the next step that matches them (the costly one is not hardware).
    query = "category=hardware-q"
    response = client.get(
        "/approvals/queue/next/", {"queue": query, "seen": f"request:{queue['old'].pk}"}
    )
    assert response["Location"] == (
        f"/requests/{queue['recent'].pk}/?queue={quote(query, safe='')}#steps"
    )
    # Seen the last one of that queue: back to the queue, filters kept.
    response = client.get(
        "/approvals/queue/next/",
        {"queue": query, "seen": f"request:{queue['recent'].pk}"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == f"/approvals/?{query}"
    assert "Nothing else waits for you in this queue." in html(response)


@pytest.mark.parametrize("seen", ["", "request:abc", "vendor:99999999999999", "x:1", ":"])
def test_next_in_queue_takes_any_input(client, queue, it_reviewer, seen):
    client.force_login(it_reviewer)
    response = client.get("/approvals/queue/next/", {"queue": "side=<b>&sort=x", "seen": seen})
    assert response.status_code == 302


def test_a_refused_decision_from_the_queue_stays_on_the_request(client, queue, it_reviewer):
    """Shown again with the reason box's error (tests/approvals/test_decision_card.py), still
    in the queue it came from."""
    client.force_login(it_reviewer)
    step = queue["old"].steps.get(side="it")
    response = client.post(
        f"/approvals/steps/{step.pk}/reject/", {"comment": "", "queue": "sort=cost"}
    )
    assert response.status_code == 400
    page = html(response)
    assert queue["old"].title in page and "a comment is required" in page
    assert '<input type="hidden" name="queue" value="sort=cost">' in page
    step.refresh_from_db()
    assert step.state == StepState.OPEN


def test_team_view_names_who_holds_each_step_and_drills_down(client, queue, cio, it_reviewer):
    UserFactory(username="irene", first_name="Irene", last_name="Ives", roles=[roles.IT_REVIEWERS])
    UserFactory(username="paula", first_name="Paula", last_name="Pike", roles=[roles.PROCUREMENT])
    client.force_login(cio)
    page = html(client.get("/approvals/"))
    breakdown = re.search(r'id="team-breakdown".*?</table>', page, re.S).group()
    it_row = re.search(r'<tr data-stage="1" data-side="it".*?</tr>', breakdown, re.S).group()
    assert ">3</td>" in it_row and ">1</td>" in it_row  # three open, one past due
    assert 'href="?team_stage=1&amp;team_side=it#team"' in it_row

    drilled = html(client.get("/approvals/", {"team_stage": "1", "team_side": "procurement"}))
    team = re.search(r'id="team-steps".*?</table>', drilled, re.S).group()
    assert team.count("<tr data-step=") == 3
    assert "Stage 1 · IT" not in team
    assert "Paula Pike" in team and str(it_reviewer) not in team
    assert "of stage 1, Procurement side" in team

    it_team = html(client.get("/approvals/", {"team_side": "it"}))
    holders = re.findall(r"data-holders>([^<]*)<", it_team)
    assert holders and all("Irene Ives" in h and str(it_reviewer) in h for h in holders)
    assert all(" or " in h for h in holders)
    assert client.get("/approvals/", {"team_stage": "abc"}).status_code == 400


def test_the_team_view_runs_a_fixed_number_of_queries(
    client, requester, cio, django_assert_max_num_queries
):

    for index in range(8):
        UserFactory(username=f"it{index}", roles=[roles.IT_REVIEWERS])
    for _ in range(20):
        workflow.submit_request(PurchaseRequestFactory(requester=requester), by=requester)
    client.force_login(cio)
    with django_assert_max_num_queries(15):  # 14 and the steps the CIO holds
        page = html(client.get("/approvals/", {"team_side": "it"}))
    assert page.count("data-holders>") == 20
