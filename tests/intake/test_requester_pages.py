"""The requester's pages (issue 14): people instead of group codes, one format for money and
dates, the reviewer's reason when changes were requested, and My requests with a state
filter, search and sorting in a constant number of queries."""

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine

from accounts import roles
from approvals import workflow
from approvals.services import decide_step
from intake.models import State
from tests.factories import PurchaseRequestFactory, UserFactory, VendorFactory

pytestmark = pytest.mark.django_db

# "procurement" and "finance" are also plain words; these codes are not.
GROUP_CODES = re.compile(r"\b(it_reviewers|cio|cpo)\b")
STATE_CODES = re.compile(r">[^<]*\b(in_review|changes_requested|step_request_changes)\b")


def visible_text(html: str) -> str:
    """The text a person reads: without tags, attribute values and scripts."""
    html = re.sub(r"<(script|style)\b.*?</\1>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def submitted(requester, **fields):
    purchase_request = PurchaseRequestFactory(requester=requester, **fields)
    return workflow.submit_request(purchase_request, by=requester)


@pytest.fixture
def it_team(it_reviewer):
    it_reviewer.first_name, it_reviewer.last_name = "Ivan", "Novak"
    it_reviewer.save()
    others = [
        UserFactory(first_name="Kai", last_name="Berg", roles=[roles.IT_REVIEWERS]),
        UserFactory(first_name="Lea", last_name="Moss", roles=[roles.IT_REVIEWERS]),
    ]
    UserFactory(first_name="Aaron", last_name="Gone", roles=[roles.IT_REVIEWERS], is_active=False)
    return [it_reviewer, *others]


def test_my_requests_says_who_the_request_waits_on_by_name(client, requester, it_team, procurement):
    purchase_request = submitted(requester)
    client.force_login(requester)
    page = client.get("/requests/").content.decode()
    row = re.search(rf'<tr data-number="{purchase_request.number}">.*?</tr>', page, re.S).group()
    assert "Ivan Novak or 2 others in IT review" in row
    assert f"{procurement} (Procurement)" in row
    assert not GROUP_CODES.search(visible_text(page))


def test_a_draft_waits_on_its_requester_by_name_and_on_you_for_them(client, requester, cio):
    draft = PurchaseRequestFactory(requester=requester)
    client.force_login(requester)
    assert "You, to submit the draft" in client.get("/requests/").content.decode()
    client.force_login(cio)  # a leader sees every request: theirs is a name
    page = client.get(draft.get_absolute_url()).content.decode()
    assert f"Waiting on: {requester}, to submit the draft" in page


def test_the_request_page_names_people_and_formats_money_and_times(
    client, requester, it_team, procurement
):
    requester.time_zone = "Europe/Berlin"
    requester.save()
    with time_machine.travel(datetime(2026, 1, 15, 9, 30, tzinfo=UTC), tick=False):
        purchase_request = submitted(
            requester,
            total_cost=Decimal("30000.00"),
            line_items=[("Seats", "100", "300.00")],
        )
    client.force_login(requester)
    page = client.get(purchase_request.get_absolute_url()).content.decode()
    text = visible_text(page)
    assert "30,000.00 EUR" in text
    assert "300.00 EUR" in text
    # Opened 15 Jan 09:30 UTC with a 48-hour SLA: due 17 Jan, 10:30 in Berlin.
    assert "due Saturday 17 Jan 2026, 10:30 CET" in " ".join(text.split())
    assert "15 Jan 2026, 10:30 CET" in text  # the timeline, in the user's time zone
    assert "Waiting on Ivan Novak or 2 others in IT review" in text
    assert "Routed to IT review (stage 1), Procurement (stage 1)" in " ".join(text.split())
    match = GROUP_CODES.search(text)
    assert not match, text[match.start() - 200 : match.end() + 50]
    assert not STATE_CODES.search(page)


def test_the_decision_message_names_the_step_not_the_group_code(client, requester, it_reviewer):
    purchase_request = submitted(requester)
    step = purchase_request.steps.get(side="it")
    client.force_login(it_reviewer)
    response = client.post(f"/approvals/steps/{step.pk}/approve/", {"comment": ""}, follow=True)
    text = visible_text(response.content.decode())
    assert f"{purchase_request.number}: IT review step approved." in text
    assert "IT review step approved" in text  # the timeline too
    assert not GROUP_CODES.search(text)


def test_old_events_with_group_codes_read_as_display_names(client, requester, it_reviewer):
    """Events recorded before display names existed carry the codes; pages still show names."""
    from audit.services import record_event

    purchase_request = submitted(requester)
    record_event(
        purchase_request,
        actor=it_reviewer,
        kind="step_approve",
        payload={"reviewer": "it_reviewers", "comment": ""},
    )
    client.force_login(requester)
    text = visible_text(client.get(purchase_request.get_absolute_url()).content.decode())
    assert "IT review step approved" in text
    assert not GROUP_CODES.search(text)


# Changes requested: the reviewer's reason, and who gave it


@pytest.fixture
def sent_back(requester, it_reviewer):
    it_reviewer.first_name, it_reviewer.last_name = "Ivan", "Novak"
    it_reviewer.save()
    purchase_request = submitted(requester)
    decide_step(
        purchase_request.steps.get(side="it"),
        by=it_reviewer,
        decision="request_changes",
        comment="Please attach the data processing agreement.",
    )
    purchase_request.refresh_from_db()
    assert purchase_request.state == State.CHANGES_REQUESTED
    return purchase_request


@pytest.mark.parametrize("where", ["detail", "edit"])
def test_the_reviewers_reason_is_quoted_on_the_request_and_its_form(
    client, requester, sent_back, where
):
    client.force_login(requester)
    url = sent_back.get_absolute_url() + ("edit/" if where == "edit" else "")
    html = client.get(url).content.decode()
    banner = re.search(r'<section[^>]*id="change-request".*?</section>', html, re.S)
    assert banner, "no changes-requested banner"
    text = " ".join(visible_text(banner.group()).split())
    assert "Ivan Novak, IT review, asked for changes" in text
    assert "“Please attach the data processing agreement.”" in text


def test_no_banner_once_resubmitted(client, requester, sent_back):
    workflow.resubmit_request(sent_back, by=requester)
    client.force_login(requester)
    assert 'id="change-request"' not in client.get(sent_back.get_absolute_url()).content.decode()


# My requests: state filter, search, sorting


@pytest.fixture
def three_requests(requester):
    acme = VendorFactory(name="Acme Analytics")
    draft = PurchaseRequestFactory(
        requester=requester, title="Zebra licences", total_cost=Decimal("500"), vendor=acme
    )
    cheap = submitted(requester, title="Monitors", total_cost=Decimal("900"))
    dear = submitted(requester, title="Analytics suite", total_cost=Decimal("45000"))
    PurchaseRequestFactory(title="Someone else's Zebra")  # another requester's
    return draft, cheap, dear


def numbers(client, query=""):
    page = client.get(f"/requests/{query}").content.decode()
    return re.findall(r'<tr data-number="([^"]+)"', page)


def test_filter_by_state(client, requester, three_requests):
    draft, cheap, dear = three_requests
    client.force_login(requester)
    assert numbers(client, "?state=draft") == [draft.number]
    assert set(numbers(client, "?state=in_review")) == {cheap.number, dear.number}


def test_search_by_number_title_or_vendor(client, requester, three_requests):
    draft, cheap, dear = three_requests
    client.force_login(requester)
    assert numbers(client, "?q=zebra") == [draft.number]
    assert numbers(client, "?q=acme") == [draft.number]
    assert numbers(client, f"?q={dear.number}") == [dear.number]


def test_sort_by_cost_and_title(client, requester, three_requests):
    draft, cheap, dear = three_requests
    client.force_login(requester)
    assert numbers(client, "?sort=cost_high") == [dear.number, cheap.number, draft.number]
    assert numbers(client, "?sort=cost_low") == [draft.number, cheap.number, dear.number]
    assert numbers(client, "?sort=title") == [dear.number, cheap.number, draft.number]


def test_filters_combine_and_pages_keep_them(client, requester):
    for index in range(27):
        PurchaseRequestFactory(requester=requester, title=f"Seat {index:02d}")
    client.force_login(requester)
    page = client.get("/requests/?q=seat&sort=title").content.decode()
    assert "27 requests match" in page
    assert 'href="?q=seat&amp;sort=title&amp;page=2"' in page
    assert numbers(client, "?q=seat&sort=title&page=2") == list(
        reversed(
            [
                n
                for n in requester.purchase_requests.order_by("-title").values_list(
                    "number", flat=True
                )
            ][:2]
        )
    )


def test_nothing_matches_offers_a_way_back(client, requester, three_requests):
    client.force_login(requester)
    page = client.get("/requests/?q=nothing-like-this").content.decode()
    assert "No request of yours matches these filters." in page
    assert 'href="/requests/">Show all my requests</a>' in page


@pytest.mark.parametrize(
    "query", ["?state=bogus", "?sort=sideways", "?q=" + "x" * 5000, "?state=%00"]
)
def test_bad_filter_values_never_fail(client, requester, three_requests, query):
    client.force_login(requester)
    response = client.get(f"/requests/{query}")
    assert response.status_code == 200


def test_a_page_that_is_no_number_is_a_400_page(client, requester, three_requests):
    client.force_login(requester)
    response = client.get("/requests/?page=abc")
    assert response.status_code == 400
    assert "page: Give a whole number" in response.content.decode()


def test_a_bad_state_names_the_field(client, requester, three_requests):
    client.force_login(requester)
    page = client.get("/requests/?state=bogus").content.decode()
    assert 'id="state-error"' in page and "Select a valid choice" in page


@pytest.mark.parametrize("size", [3, 30])
def test_my_requests_query_count_is_constant(
    client, requester, it_team, django_assert_max_num_queries, size
):
    for index in range(size):
        submitted(requester, title=f"Licence {index}")
    client.force_login(requester)
    # session, user, groups, count, page of requests, open steps, their groups' people, unread
    # count, and the navigation's count of steps waiting for the user (delegations, count) and
    # whether they own a budget (the menu's Budgets)
    with django_assert_max_num_queries(12):
        response = client.get("/requests/?state=in_review&q=licence&sort=cost_high")
    assert len(re.findall(r"<tr data-number=", response.content.decode())) == min(size, 25)
