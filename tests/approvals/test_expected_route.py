"""Before submit, the request form says who would decide each step, by name and never the
requester (four eyes), and by when: from what the reviewer group took on the category lately,
else from the rule's SLA, counted on the group's working-hours calendar (issue 29, items 4
and 7)."""

import re
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import roles
from approvals import routing
from approvals.models import ApprovalRule, ApprovalStep, RuleKind, Side, StepState
from approvals.selectors import expected_route
from calendars.models import GroupCalendar, WorkCalendar
from tests.factories import CategoryFactory, PurchaseRequestFactory, UserFactory
from tests.intake.test_form_helpers import form_query

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
# A Friday, an hour before the office closes for the weekend.
FRIDAY_16 = datetime(2026, 12, 11, 16, tzinfo=BERLIN)


def berlin(*args):
    return datetime(*args, tzinfo=BERLIN)


def group(name):
    return Group.objects.get(name=name)


def text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def stages(response) -> list[str]:
    """Each stage's line of the preview, without its "Why"."""
    page = re.sub(r"<details.*?</details>", "", response.content.decode(), flags=re.S)
    lines = re.findall(r"<li data-stage=[^>]*>(.*?)</li>", page, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", line).split()) for line in lines]


@pytest.fixture
def people(requester):
    """IT review: Ines Ives, Ivan Ito and the requester herself; procurement Paula Pike; the
    CIO Cora Chen; the CPO Cleo Cole."""
    requester.first_name, requester.last_name = "Rita", "Reyes"
    requester.save()
    requester.groups.add(group(roles.IT_REVIEWERS))
    return {
        "ivan": UserFactory(first_name="Ivan", last_name="Ito", roles=[roles.IT_REVIEWERS]),
        "ines": UserFactory(first_name="Ines", last_name="Ives", roles=[roles.IT_REVIEWERS]),
        "paula": UserFactory(first_name="Paula", last_name="Pike", roles=[roles.PROCUREMENT]),
        "cora": UserFactory(first_name="Cora", last_name="Chen", roles=[roles.CIO]),
        "cleo": UserFactory(first_name="Cleo", last_name="Cole", roles=[roles.CPO]),
    }


@pytest.fixture
def office(db):
    """Monday to Friday, 9 to 17 in Berlin, for every reviewer group; SLAs of 8 working hours,
    16 for the leaders' sign-off above 25,000 at stage 2."""
    calendar = WorkCalendar.objects.create(name="Berlin office", time_zone="Europe/Berlin")
    for name in roles.ALL_GROUPS:
        GroupCalendar.objects.create(group=group(name), calendar=calendar)
    ApprovalRule.objects.filter(kind=RuleKind.VENDOR_REVIEW).update(active=False)
    ApprovalRule.objects.update(sla_hours=8)
    for name, side in ((roles.CIO, Side.IT), (roles.CPO, Side.PROCUREMENT)):
        ApprovalRule.objects.create(
            name=f"{name} above 25k",
            min_total=Decimal("25000"),
            reviewer_group=group(name),
            side=side,
            stage=2,
            sla_hours=16,
        )
    return calendar


def decided(category, group_name, opened_at, decided_at, *, side=Side.IT):
    """A review step of an earlier request of `category`, decided after `opened_at`."""
    step = ApprovalStep.objects.create(
        request=PurchaseRequestFactory(category=category),
        side=side,
        group=group(group_name),
        rule_name="Earlier",
        sla_hours=8,
        repeat_every_hours=8,
        escalate_after_hours=16,
    )
    ApprovalStep.objects.filter(pk=step.pk).update(
        state=StepState.APPROVED, opened_at=opened_at, decided_at=decided_at
    )


def plan_for(category=None, total=Decimal("1000")):
    return routing.plan(
        routing.RequestFacts(category_id=category.pk if category else None, total_base=total)
    )


def test_the_preview_names_the_people_who_would_decide_never_the_requester(
    client, requester, people
):
    for first in ("Iris", "Ida", "Igor"):
        UserFactory(first_name=first, last_name="Ives", roles=[roles.PROCUREMENT])
    client.force_login(requester)

    page = text(client.post("/approvals/approvers-preview/", form_query()))

    # Rita is in IT review too, but never decides her own request.
    assert "Ines Ives or Ivan Ito (IT review)" in page
    assert "Rita Reyes" not in page
    # Four people in procurement: two named, the rest counted.
    assert "Ida Ives, Igor Ives or 2 others (Procurement)" in page
    assert "(IT)" not in page and "---------" not in page


def test_expected_dates_follow_the_sla_on_a_calendar_with_a_weekend(
    client, requester, people, office
):
    client.force_login(requester)
    query = form_query(**{"items-0-unit_price": "30000"})
    with time_machine.travel(FRIDAY_16, tick=False):
        response = client.post("/approvals/approvers-preview/", query)

    # Friday 16:00 + 8 working hours: 1 on Friday, the weekend off, 7 on Monday. Stage 2 starts
    # Monday 16:00 + 16 hours: 1 on Monday, 8 on Tuesday, 7 on Wednesday.
    assert stages(response) == [
        "Ines Ives or Ivan Ito (IT review) and Paula Pike (Procurement) by Monday 14 Dec 2026",
        "then Cora Chen (CIO) and Cleo Cole (CPO) by Wednesday 16 Dec 2026",
    ]
    assert "IT review: within its 8-hour SLA, counted in its working hours." in text(response)


def test_expected_dates_follow_what_the_group_took_on_the_category_lately(people, office):
    software = CategoryFactory(name="Software licence", slug="software-licence")
    hardware = CategoryFactory(name="Hardware", slug="hardware")
    # Three IT reviews of software in the last 180 days: 2, 2 (Friday 16:00 to Monday 10:00,
    # over a weekend) and 4 working hours.
    decided(software, roles.IT_REVIEWERS, berlin(2026, 11, 30, 9), berlin(2026, 11, 30, 11))
    decided(software, roles.IT_REVIEWERS, berlin(2026, 11, 27, 16), berlin(2026, 11, 30, 10))
    decided(software, roles.IT_REVIEWERS, berlin(2026, 12, 1, 9), berlin(2026, 12, 1, 13))
    # Neither another category's nor a review of more than 180 days ago counts.
    decided(hardware, roles.IT_REVIEWERS, berlin(2026, 12, 1, 9), berlin(2026, 12, 7, 9))
    decided(software, roles.IT_REVIEWERS, berlin(2026, 5, 4, 9), berlin(2026, 5, 11, 9))

    route = expected_route(
        plan_for(software), category_id=software.pk, requester_id=None, start=FRIDAY_16
    )

    it, procurement = route[0].steps
    assert (it.decisions, it.working_time) == (3, timedelta(hours=2))
    assert it.expected_at == berlin(2026, 12, 14, 10)  # Monday 10:00, after the weekend
    assert (procurement.decisions, procurement.expected_at) == (0, berlin(2026, 12, 14, 16))
    assert route[0].expected_at == berlin(2026, 12, 14, 16)  # the slowest step

    # With two such reviews only, the SLA it is.
    ApprovalStep.objects.filter(request__category=software, decided_at__day=1).delete()
    route = expected_route(
        plan_for(software), category_id=software.pk, requester_id=None, start=FRIDAY_16
    )
    assert (route[0].steps[0].decisions, route[0].steps[0].expected_at) == (
        0,
        berlin(2026, 12, 14, 16),
    )


def test_the_preview_says_what_the_estimate_rests_on(client, requester, people, office):
    software = CategoryFactory(name="Software licence", slug="software-licence")
    for day in (7, 8, 9):
        decided(software, roles.IT_REVIEWERS, berlin(2026, 12, day, 9), berlin(2026, 12, day, 12))
    client.force_login(requester)
    with time_machine.travel(FRIDAY_16, tick=False):
        page = text(
            client.post("/approvals/approvers-preview/", form_query(category=str(software.pk)))
        )
    assert (
        "IT review: about 3 working hours, what it took on Software licence requests lately "
        "(the median of its last 3 decisions)."
    ) in page
    assert "by Monday 14 Dec 2026" in page  # Paula's 8-hour SLA is the slower


def test_the_expected_route_costs_the_same_queries_for_two_steps_or_fourteen(people, office):
    software = CategoryFactory(name="Software licence", slug="software-licence")
    decided(software, roles.IT_REVIEWERS, berlin(2026, 12, 7, 9), berlin(2026, 12, 7, 12))

    def queries(plan):
        with CaptureQueriesContext(connection) as captured:
            route = expected_route(plan, category_id=software.pk, requester_id=1, start=FRIDAY_16)
        return len(captured), sum(len(stage.steps) for stage in route)

    few = queries(plan_for(software))
    for stage in range(3, 9):
        for name, side in ((roles.FINANCE, Side.FINANCE), (roles.IT_REVIEWERS, Side.IT)):
            ApprovalRule.objects.create(
                name=f"{name} {stage}", reviewer_group=group(name), side=side, stage=stage
            )
    many = queries(plan_for(software))
    assert few[1] == 2 and many[1] == 14
    assert few[0] == many[0] <= 5


def test_the_preview_runs_a_fixed_number_of_queries_with_people_and_dates(
    client, requester, people, office, django_assert_max_num_queries
):
    software = CategoryFactory(name="Software licence", slug="software-licence")
    for day in (7, 8, 9):
        decided(software, roles.IT_REVIEWERS, berlin(2026, 12, day, 9), berlin(2026, 12, day, 12))
    for stage in range(3, 9):
        ApprovalRule.objects.create(
            name=f"Finance {stage}",
            reviewer_group=group(roles.FINANCE),
            side="finance",
            stage=stage,
        )
    for index in range(10):
        UserFactory(username=f"fin{index}", roles=[roles.FINANCE])
    client.force_login(requester)
    query = form_query(category=str(software.pk), **{"items-0-unit_price": "30000"})
    client.post("/approvals/approvers-preview/", query)
    with django_assert_max_num_queries(12):
        page = client.post("/approvals/approvers-preview/", query).content.decode()
    assert page.count("<li data-stage=") == 8
