"""The decision card (issue 29, item 3): a reviewer who may decide an open step finds, at the top
of the request page, what is asked as arithmetic, what changed since the last round, the
budget's effect, the vendor's risk, duplicates, open second opinions and the three decisions,
with a refused reason shown at its box. Everyone else sees the page as before."""

import html
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from approvals import workflow
from approvals.models import ApprovalRule, RuleKind, Side, StepState
from approvals.services import ask_colleague, decide_step, take_step
from budgets import fiscal
from budgets.models import Budget
from intake import services as intake_services
from intake.models import Billing, CostBreakdown, State, billing_periods
from tests.factories import PurchaseRequestFactory, UserFactory, VendorFactory

pytestmark = pytest.mark.django_db


def card_of(page: str) -> str:
    """The decision card's HTML, or "" when the page has none."""
    found = re.search(r'<section[^>]* id="decide".*?</section>', page, re.S)
    return found.group() if found else ""


def text(fragment: str) -> str:
    """What a reader reads of some HTML: its text, its spaces folded."""
    inline = re.sub(r"</?(?:kbd|span|a|i|time|strong)\b[^>]*>", "", fragment)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", inline)).split())


def fact(card: str, name: str) -> str:
    found = re.search(rf'<dd data-fact="{name}">(.*?)</dd>', card, re.S)
    return text(found.group(1)) if found else ""


def page_for(client, user, purchase_request, **params) -> str:
    client.force_login(user)
    response = client.get(purchase_request.get_absolute_url(), params)
    assert response.status_code == 200
    return response.content.decode()


# What is asked, as arithmetic


@pytest.mark.parametrize(
    ("billing", "term", "per_period", "total", "sentence"),
    [
        (
            Billing.MONTHLY, 12, "1200", "14400",
            "1,200.00 EUR a month × 12 months = 14,400.00 EUR",
        ),
        (Billing.MONTHLY, 1, "99.5", "99.5", "99.50 EUR a month × 1 month = 99.50 EUR"),
        (Billing.ANNUAL, 36, "5000", "15000", "5,000.00 EUR a year × 3 years = 15,000.00 EUR"),
        (
            Billing.ANNUAL, 30, "2000", "6000",
            "2,000.00 EUR a year × 3 years (a 30-month term) = 6,000.00 EUR",
        ),
        (Billing.ONE_OFF, None, "4800", "4800", "4,800.00 EUR, paid once"),
        (Billing.MONTHLY, None, "10", None, "10.00 EUR a month; no term yet, so no total"),
    ],
)  # fmt: skip
def test_the_cost_says_its_arithmetic(billing, term, per_period, total, sentence):
    breakdown = CostBreakdown(
        per_period=Decimal(per_period),
        periods=billing_periods(billing, term),
        billing=billing,
        term_months=term,
        total=None if total is None else Decimal(total),
        currency="EUR",
    )
    assert str(breakdown) == sentence


def test_the_card_states_per_period_times_periods_equals_total(client, submitted, it_reviewer):
    purchase_request = submitted(
        billing=Billing.MONTHLY,
        term_months=12,
        total_cost=Decimal("14400.00"),
        line_items=[("Platform", "1", "1000.00"), ("Support", "2", "100.00")],
    )
    card = card_of(page_for(client, it_reviewer, purchase_request))
    assert fact(card, "cost") == "1,200.00 EUR a month × 12 months = 14,400.00 EUR"


# Who sees it


def test_the_requester_and_onlookers_see_the_page_as_before(
    client, submitted, requester, it_reviewer, cio
):
    purchase_request = submitted()
    decide_step(purchase_request.steps.get(side=Side.IT), by=it_reviewer, decision="approve")
    for reader in (requester, it_reviewer, cio):  # cio: stage 2 is not open (nor routed)
        page = page_for(client, reader, purchase_request)
        assert card_of(page) == ""
        assert "Your decision" not in page
        assert 'id="queue-nav"' not in page
        assert "decision_card.js" not in page


def test_the_decider_decides_in_the_card_not_in_the_steps(client, submitted, it_reviewer):
    purchase_request = submitted()
    step = purchase_request.steps.get(side=Side.IT)
    page = page_for(client, it_reviewer, purchase_request)
    card = card_of(page)
    assert card and page.index('id="decide"') < page.index('id="details-heading"')
    assert f'data-decides="{step.pk}"' in card
    for decision, key in (("approve", "a"), ("request-changes", "c"), ("reject", "r")):
        assert f'formaction="/approvals/steps/{step.pk}/{decision}/"' in card
        assert f'aria-keyshortcuts="{key}"' in card
    # One form, one box: the step in the list points up to it.
    assert page.count('name="comment"') == 1
    steps = page[page.index('id="steps"') :]
    assert "Decide in “Your decision” at the top" in steps
    assert "Keyboard: a approve · c changes · r reject · j/k next/previous" in text(card)
    assert 'src="/static/js/decision_card.js"' in page


# What changed since the last round


@pytest.fixture
def resubmitted(submitted, requester, it_reviewer, procurement):
    """Round 1 at 10,000.00 EUR, sent back by IT; round 2 at 14,400.00 EUR with a new vendor
    and a new justification."""
    purchase_request = submitted(
        total_cost=Decimal("10000.00"),
        line_items=[("Seats", "10", "1000.00")],
        vendor=VendorFactory(name="Acme Seats"),
    )
    decide_step(
        purchase_request.steps.get(side=Side.IT),
        by=it_reviewer,
        decision="request_changes",
        comment="Twelve seats, and tell us why.",
    )
    purchase_request.refresh_from_db()
    intake_services.update_request(
        purchase_request,
        by=requester,
        fields={
            "vendor": VendorFactory(name="Globex Seats"),
            "business_justification": "Two more designers start in May.",
        },
        line_items=[
            {"description": "Seats", "quantity": Decimal("12"), "unit_price": Decimal("1200")}
        ],
    )
    return workflow.resubmit_request(purchase_request, by=requester)


def test_the_card_shows_what_changed_since_the_last_round(client, resubmitted, it_reviewer):
    card = card_of(page_for(client, it_reviewer, resubmitted))
    assert fact(card, "changes") == (
        "Changed since round 1: Cost 10,000.00 EUR → 14,400.00 EUR; "
        "Vendor Acme Seats → Globex Seats. Also edited: business justification."
    )


def test_a_first_round_shows_no_changes(client, submitted, it_reviewer):
    card = card_of(page_for(client, it_reviewer, submitted()))
    assert card and 'data-fact="changes"' not in card and "Since round" not in card


def test_a_round_without_changes_says_so(client, submitted, requester, it_reviewer):
    purchase_request = submitted()
    decide_step(
        purchase_request.steps.get(side=Side.IT),
        by=it_reviewer,
        decision="request_changes",
        comment="Attach the quote.",
    )
    purchase_request.refresh_from_db()
    workflow.resubmit_request(purchase_request, by=requester)
    card = card_of(page_for(client, it_reviewer, purchase_request))
    assert fact(card, "changes") == "Nothing changed since round 1."


# The budget


@pytest.fixture
def over_budget(submitted, requester):
    """A department whose 40,000.00 EUR budget has 19,758.00 EUR left when a 20,800.00 EUR
    request comes in."""
    needed_by = timezone.localdate() + timedelta(days=10)
    owner = UserFactory(username="olga", first_name="Olga", last_name="Owner", roles=["finance"])

    def make(amount="40000"):
        budget = Budget.objects.create(
            department=requester.department,
            fiscal_year=fiscal.fiscal_year_of(needed_by),
            amount=Decimal(amount),
            owner=owner,
        )
        PurchaseRequestFactory(
            department=requester.department,
            state=State.APPROVED,
            total_cost=Decimal("20242.00"),
            needed_by=needed_by,
        )
        purchase_request = submitted(
            total_cost=Decimal("20800.00"),
            line_items=[("Servers", "2", "10400.00")],
            needed_by=needed_by,
        )
        return purchase_request, budget

    return make


def test_the_card_says_how_far_over_budget_the_request_goes(client, over_budget, it_reviewer):
    purchase_request, budget = over_budget()
    card = card_of(page_for(client, it_reviewer, purchase_request))
    assert fact(card, "budget") == (
        "Takes 20,800.00 EUR of 19,758.00 EUR available: over by 1,042.00 EUR "
        f"({budget.department.name}, {budget.fiscal_year_label}; Olga Owner owns it)"
    )
    assert f'data-over data-budget-line="{budget.pk}"' in card


def test_the_card_says_what_stays_available_within_budget(client, over_budget, it_reviewer):
    purchase_request, budget = over_budget("60000")
    card = card_of(page_for(client, it_reviewer, purchase_request))
    assert fact(card, "budget").startswith(
        "Takes 20,800.00 EUR of 39,758.00 EUR available: 18,958.00 EUR stays available"
    )
    assert "data-over" not in card


def test_the_budget_owner_decides_the_overrun_from_the_card(
    client, over_budget, it_reviewer, procurement
):
    purchase_request, budget = over_budget()
    for step in purchase_request.steps.filter(state=StepState.OPEN):
        decider = it_reviewer if step.side == Side.IT else procurement
        decide_step(step, by=decider, decision="approve")
    owner_step = purchase_request.steps.get(side=Side.FINANCE, state=StepState.OPEN)
    card = card_of(page_for(client, budget.owner, purchase_request))
    assert f'data-decides="{owner_step.pk}"' in card
    assert fact(card, "budget").endswith(
        f"over by 1,042.00 EUR ({budget.department.name}, {budget.fiscal_year_label}; your budget)"
    )


def test_a_department_without_a_budget_is_named(client, submitted, it_reviewer, requester):
    needed_by = timezone.localdate() + timedelta(days=10)
    card = card_of(page_for(client, it_reviewer, submitted(needed_by=needed_by)))
    year = fiscal.label(fiscal.fiscal_year_of(needed_by))
    assert fact(card, "budget") == f"No budget is set for {requester.department.name} in {year}."


# Vendor, duplicates, second opinions


def test_the_card_names_the_vendors_risk_and_status(client, submitted, it_reviewer):
    vendor = VendorFactory(name="Risky Ltd", status="approved_with_conditions", risk_tier="high")
    card = card_of(page_for(client, it_reviewer, submitted(vendor=vendor)))
    assert fact(card, "vendor") == (
        "Risky Ltd · Risk tier: High · Status: Approved with conditions"
    )


def test_the_card_says_a_proposed_vendor_is_not_reviewed_yet(client, submitted, it_reviewer):
    ApprovalRule.objects.filter(kind=RuleKind.VENDOR_REVIEW).update(active=False)
    purchase_request = submitted(vendor=None, proposed_vendor_name="Newco Analytics")
    card = card_of(page_for(client, it_reviewer, purchase_request))
    assert fact(card, "vendor") == "Newco Analytics: a new vendor, not reviewed yet"


def test_the_card_counts_duplicates_and_links_to_them(client, submitted, it_reviewer, requester):
    vendor = VendorFactory(name="Figma")
    submitted(title="Figma seats for design", vendor=vendor)
    card = card_of(page_for(client, it_reviewer, submitted(title="Figma seats", vendor=vendor)))
    assert fact(card, "duplicates") == "1 similar request"
    assert '<a href="#duplicates">' in card
    lone = submitted(title="Unrelated laptops", vendor=VendorFactory())
    assert fact(card_of(page_for(client, it_reviewer, lone)), "duplicates") == "None found"


def test_the_card_lists_open_second_opinions(client, submitted, it_reviewer, cio):
    purchase_request = submitted()
    step = purchase_request.steps.get(side=Side.IT)
    card = card_of(page_for(client, it_reviewer, purchase_request))
    assert fact(card, "second-opinions") == "None open"
    consultation = ask_colleague(step, by=it_reviewer, colleague=cio, question="Is EU hosting ok?")
    card = card_of(page_for(client, it_reviewer, purchase_request))
    assert fact(card, "second-opinions") == (
        f"{cio} has not answered {it_reviewer} yet: “Is EU hosting ok?”"
    )
    assert f'href="#consultation-{consultation.pk}"' in card


# A refused decision: the error at its box


def test_rejecting_without_a_reason_shows_the_error_at_the_box(client, submitted, it_reviewer):
    purchase_request = submitted()
    step = purchase_request.steps.get(side=Side.IT)
    client.force_login(it_reviewer)
    response = client.post(
        f"/approvals/steps/{step.pk}/reject/", {"comment": "  ", "queue": "sort=cost"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    card = card_of(page)
    box = re.search(r"<textarea[^>]*>", card).group()
    assert 'aria-invalid="true"' in box and "autofocus" in box and "is-invalid" in box
    assert f'aria-describedby="comment-error-{step.pk} comment-help-{step.pk}"' in box
    # The error follows the box at once, and is not a message at the top of the page.
    after_box = card[card.index("</textarea>") :]
    error = re.search(rf'<div[^>]* id="comment-error-{step.pk}"[^>]*>(.*?)</div>', after_box)
    assert after_box.index(error.group()) < after_box.index("comment-help")
    assert "a comment is required to reject" in text(error.group(1))
    assert 'role="alert"' not in page[: page.index('id="decide"')]
    # Still rejecting, still in the queue it came from.
    assert 'data-chosen="reject"' in card
    assert re.search(r'class="btn btn-danger"[^>]*data-decision="reject"', card)
    assert '<input type="hidden" name="queue" value="sort=cost">' in card
    assert "queue=sort%3Dcost" in card  # the way on through the queue
    step.refresh_from_db()
    assert step.state == StepState.OPEN

    response = client.post(
        f"/approvals/steps/{step.pk}/reject/", {"comment": "No budget this year.", "queue": ""}
    )
    assert response.status_code == 302
    assert response["Location"] == f"{purchase_request.get_absolute_url()}?queue=#steps"
    step.refresh_from_db()
    assert (step.state, step.comment) == (StepState.REJECTED, "No budget this year.")


def test_a_comment_too_long_is_refused_at_the_box_and_kept(client, submitted, it_reviewer):
    step = submitted().steps.get(side=Side.IT)
    client.force_login(it_reviewer)
    long = "x" * 20_001
    response = client.post(f"/approvals/steps/{step.pk}/request-changes/", {"comment": long})
    assert response.status_code == 400
    card = card_of(response.content.decode())
    assert long in card and 'data-chosen="request_changes"' in card
    assert 'aria-invalid="true"' in card
    step.refresh_from_db()
    assert step.state == StepState.OPEN


def test_a_refusal_for_a_step_without_its_box_is_a_message(client, submitted, requester):
    """The requester may not decide (and has no card): what their post lacked is still said."""
    step = submitted().steps.get(side=Side.IT)
    client.force_login(requester)
    response = client.post(f"/approvals/steps/{step.pk}/reject/", {"comment": ""})
    page = response.content.decode()
    assert card_of(page) == ""
    assert re.search(r'role="alert">\s*Say why: a comment is required', page)
    step.refresh_from_db()
    assert step.state == StepState.OPEN


def test_other_refusals_stay_messages(client, submitted, it_reviewer):
    """A decision lost to a colleague's is no fault of the box: a message, as before."""
    purchase_request = submitted()
    step = purchase_request.steps.get(side=Side.IT)
    colleague = UserFactory(roles=["it_reviewers"])
    decide_step(step, by=colleague, decision="approve")
    client.force_login(it_reviewer)
    response = client.post(f"/approvals/steps/{step.pk}/reject/", {"comment": "No."}, follow=True)
    assert response.status_code == 200
    assert card_of(response.content.decode()) == ""
    assert 'role="alert"' in response.content.decode()


# Next and previous in the queue (j and k)


@pytest.fixture
def queue(submitted):
    """Three requests waiting for IT, due one after the other."""
    made = []
    for days in (3, 2, 1):
        purchase_request = submitted(title=f"Queued {days}")
        purchase_request.steps.filter(side=Side.IT).update(
            due_at=timezone.now() + timedelta(days=10 - days)
        )
        made.append(purchase_request)
    return made


def neighbour(client, purchase_request, to, queue=""):
    return client.get(
        "/approvals/queue/step/",
        {"from": f"request:{purchase_request.pk}", "to": to, "queue": queue},
    )


def test_j_and_k_go_to_the_next_and_previous_request_of_the_queue(client, queue, it_reviewer):
    first, second, third = queue
    client.force_login(it_reviewer)
    assert neighbour(client, second, "next")["Location"] == f"/requests/{third.pk}/?queue="
    assert neighbour(client, second, "previous")["Location"] == f"/requests/{first.pk}/?queue="
    # Past the ends, round to the other end.
    assert neighbour(client, third, "next")["Location"] == f"/requests/{first.pk}/?queue="
    assert neighbour(client, first, "previous")["Location"] == f"/requests/{third.pk}/?queue="
    # A request just decided keeps its place.
    decide_step(second.steps.get(side=Side.IT), by=it_reviewer, decision="reject", comment="No.")
    assert neighbour(client, second, "next")["Location"] == f"/requests/{third.pk}/?queue="
    assert neighbour(client, second, "previous")["Location"] == f"/requests/{first.pk}/?queue="


def test_j_follows_the_queue_as_waiting_for_me_lists_it(client, queue, it_reviewer):
    """The steps one holds come first; then the rest, in the queue's order and filters."""
    first, second, third = queue
    take_step(third.steps.get(side=Side.IT), by=it_reviewer)
    client.force_login(it_reviewer)
    assert neighbour(client, third, "next")["Location"] == f"/requests/{first.pk}/?queue="
    assert neighbour(client, first, "previous")["Location"] == f"/requests/{third.pk}/?queue="
    response = neighbour(client, first, "next", queue="sort=oldest")
    assert response["Location"] == f"/requests/{second.pk}/?queue=sort%3Doldest"


def test_when_nothing_else_waits_j_goes_back_to_the_queue(client, submitted, it_reviewer):
    only = submitted()
    client.force_login(it_reviewer)
    response = neighbour(client, only, "next", queue="sort=cost")
    assert response["Location"] == "/approvals/?sort=cost"
    response = client.get("/approvals/queue/step/", {"from": "nonsense", "to": "previous"})
    assert response["Location"] == f"/requests/{only.pk}/?queue="


def test_the_card_links_the_neighbours_without_script(client, queue, it_reviewer):
    card = card_of(page_for(client, it_reviewer, queue[1], queue="sort=cost"))
    nav = re.search(r'<nav[^>]*id="queue-nav".*?</nav>', card, re.S).group()
    assert (
        f'href="/approvals/queue/step/?from=request:{queue[1].pk}&amp;to=next&amp;'
        'queue=sort%3Dcost"' in nav
    )
    assert 'data-queue-key="j"' in nav and 'data-queue-key="k"' in nav


def test_after_a_decision_the_page_keeps_the_way_on(client, queue, it_reviewer):
    page = page_for(client, it_reviewer, queue[0], queue="")
    assert card_of(page)
    decide_step(queue[0].steps.get(side=Side.IT), by=it_reviewer, decision="approve")
    page = page_for(client, it_reviewer, queue[0], queue="")
    assert card_of(page) == ""
    assert 'id="queue-nav"' in page and "Keyboard: j/k next/previous" in text(page)
    assert "decision_card.js" in page


# Queries


@pytest.mark.parametrize("size", [1, 4])
def test_the_card_runs_a_fixed_number_of_queries(
    client, submitted, requester, it_reviewer, cio, django_assert_max_num_queries, size
):
    """However many rounds, line items, second opinions and duplicates."""
    vendor = VendorFactory()
    Budget.objects.create(
        department=requester.department,
        fiscal_year=fiscal.fiscal_year_of(timezone.localdate() + timedelta(days=30)),
        amount=Decimal("100000"),
        owner=cio,
    )
    for n in range(size):
        submitted(title=f"Similar seats {n}", vendor=vendor)
    purchase_request = submitted(
        title="Similar seats", vendor=vendor, line_items=[("Seat", "1", "10")] * size
    )
    for _ in range(size):
        decide_step(
            purchase_request.steps.get(side=Side.IT, state=StepState.OPEN),
            by=it_reviewer,
            decision="request_changes",
            comment="Again.",
        )
        purchase_request.refresh_from_db()
        workflow.resubmit_request(purchase_request, by=requester)
    step = purchase_request.steps.get(side=Side.IT, state=StepState.OPEN)
    for n in range(size):
        colleague = UserFactory(roles=["cio"]) if n else cio
        ask_colleague(step, by=it_reviewer, colleague=colleague, question="Thoughts?")
    client.force_login(it_reviewer)
    client.get(purchase_request.get_absolute_url())  # warms the per-process caches
    # 31 as a reviewer's page ran before the card, and the card's own 4: the two latest round
    # snapshots, the requester's edits between them, and the budgets with their figures.
    with django_assert_max_num_queries(35):
        page = client.get(purchase_request.get_absolute_url()).content.decode()
    assert "stays available" in fact(card_of(page), "budget")
