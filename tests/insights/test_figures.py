"""The dashboard's figures against values worked out by hand from the organisation of
tests/insights/conftest.py (read its tables first)."""

import zoneinfo
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from approvals.models import Side
from audit.services import record_event
from insights import selectors
from insights.policies import EVERYTHING, Scope, scope_for
from insights.selectors import CYCLE_TIME, HAS_CYCLE, FigureFilters
from intake.models import PurchaseRequest, State
from tests.factories import UserFactory, VendorFactory

from .conftest import add_request, at

pytestmark = pytest.mark.django_db


def days(n: float) -> timedelta:
    return timedelta(days=n)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def series(spend: selectors.Spend) -> dict[str, dict[str, Decimal]]:
    """{label: {"YYYY-MM": amount}} without the empty months."""
    return {
        s.label: {f"{m:%Y-%m}": v for m, v in zip(spend.months, s.values, strict=True) if v}
        for s in spend.series
    }


LAST_12_MONTHS = [date(2025, m, 1) for m in range(7, 13)] + [date(2026, m, 1) for m in range(1, 7)]


# ---- every side (CIO, CPO, admins) ----------------------------------------------------------


def test_cycle_time_median_and_90th_percentile_of_decided_requests(world):
    cycle = selectors.figures(EVERYTHING).cycle_time
    # Decided: A 1, B 2, C 3, D 4, I 5, E 10 days. Median at position 2.5 of 0..5: 3.5 days;
    # 90th percentile at 4.5: 5 + 0.5 x (10 - 5) = 7.5 days. In review and drafts do not count.
    assert cycle.count == 6
    assert cycle.median == days(3.5)
    assert cycle.p90 == days(7.5)


def test_the_offset_percentiles_match_percentile_cont(world):
    """The ORDER BY + OFFSET reading used away from PostgreSQL gives the same values (it runs on
    every database, so the PostgreSQL pass compares it with percentile_cont)."""
    decided = PurchaseRequest.objects.filter(HAS_CYCLE)
    median, p90, p0, p100 = selectors.percentiles_by_offset(
        decided, CYCLE_TIME, decided.count(), (0.5, 0.9, 0.0, 1.0)
    )
    assert (median, p90, p0, p100) == (days(3.5), days(7.5), days(1), days(10))


def test_approval_rejection_and_change_request_rates_of_decided_requests(world):
    decisions = selectors.figures(EVERYTHING).decisions
    # Decided: A, B (ordered), C (closed), E, I approved; D rejected; E was sent back once.
    assert (decisions.decided, decisions.approved, decisions.rejected) == (6, 5, 1)
    assert decisions.sent_back == 1
    assert decisions.approval_rate == pytest.approx(5 / 6)
    assert decisions.rejection_rate == pytest.approx(1 / 6)
    assert decisions.change_request_rate == pytest.approx(1 / 6)


def test_changes_requested_counted_from_the_audit_trail_too(world):
    """A rejected vendor sends its requests back without a step asking for changes; the audit
    trail's transition still counts for the leaders."""
    with transaction.atomic():
        record_event(
            world.requests["C"],
            actor=None,
            kind="request_changes",
            from_state=State.IN_REVIEW,
            to_state=State.CHANGES_REQUESTED,
        )
    decisions = selectors.figures(EVERYTHING).decisions
    assert decisions.sent_back == 2
    assert decisions.change_request_rate == pytest.approx(2 / 6)


def test_open_value_sums_the_requests_in_review(world):
    open_value = selectors.figures(EVERYTHING).open_value
    assert open_value.count == 2  # F and G; the draft H waits on nobody
    assert open_value.total == Decimal("6500.00")


def test_time_spent_per_side_over_decided_steps(world):
    sides = {s.side: s for s in selectors.figures(EVERYTHING).sides}
    assert list(sides) == [Side.IT, Side.PROCUREMENT, Side.FINANCE]
    # IT: A 12 h, B 24 h, E round 1 48 h (changes requested is a decision), E round 2 24 h.
    assert (sides["it"].decided, sides["it"].total_time) == (4, hours(108))
    assert sides["it"].average_time == hours(27)
    # Procurement: A 24 h, B 48 h, E round 2 144 h; E round 1 was superseded, not decided.
    assert (sides["procurement"].decided, sides["procurement"].total_time) == (3, hours(216))
    assert sides["procurement"].average_time == hours(72)
    assert (sides["finance"].decided, sides["finance"].average_time) == (1, hours(6))


def test_sla_breaches_over_steps_opened(world):
    figures = selectors.figures(EVERYTHING)
    sides = {s.side: s for s in figures.sides}
    # IT: B (12 h SLA, decided after 24 h) and E round 1 late, F open past due; G never opened.
    assert (sides["it"].breached, sides["it"].opened) == (3, 5)
    # Procurement: E round 2 late; B decided on the dot is in time; F open but not due yet.
    assert (sides["procurement"].breached, sides["procurement"].opened) == (1, 5)
    assert (sides["finance"].breached, sides["finance"].opened) == (0, 1)
    assert (figures.sla.breached, figures.sla.opened) == (4, 11)
    assert figures.sla.rate == pytest.approx(4 / 11)
    assert sides["it"].breach_rate == pytest.approx(3 / 5)


def test_spend_per_month_by_category_over_the_last_12_months(world):
    spend = selectors.figures(EVERYTHING).spend["category"]
    assert spend.months == LAST_12_MONTHS  # July 2025 to June 2026
    # Approved, ordered and closed by the month of their decision: the rejected D and I (decided
    # May 2025, before the window) are left out; the largest series comes first.
    assert [s.label for s in spend.series] == ["Hardware", "SaaS subscription"]
    assert series(spend) == {
        "Hardware": {"2026-03": Decimal("2000"), "2026-05": Decimal("3000")},
        "SaaS subscription": {"2026-04": Decimal("500"), "2026-05": Decimal("1000")},
    }
    assert [s.total for s in spend.series] == [Decimal("5000"), Decimal("1500")]
    assert spend.totals[-4:] == [Decimal("2000"), Decimal("500"), Decimal("4000"), Decimal("0")]
    assert spend.total == Decimal("6500")


def test_spend_per_month_by_vendor_and_by_department(world):
    spend = selectors.figures(EVERYTHING).spend
    assert series(spend["vendor"]) == {
        "Dell": {"2026-03": Decimal("2000"), "2026-05": Decimal("3000")},
        "Miro": {"2026-04": Decimal("500"), "2026-05": Decimal("1000")},
    }
    assert series(spend["department"]) == {
        "Marketing": {"2026-05": Decimal("4000")},
        "Sales": {"2026-03": Decimal("2000"), "2026-04": Decimal("500")},
    }


def test_spend_months_are_the_users_months(world):
    """Decided 2026-03-31 23:30 UTC is already April in Berlin."""
    add_request(
        State.APPROVED,
        department=world.sales,
        category=world.requests["A"].category,
        vendor=world.requests["A"].vendor,
        cost=100,
        submitted=at(3, 30),
        decided=at(3, 31, 23) + timedelta(minutes=30),
    )
    in_utc = series(selectors.figures(EVERYTHING).spend["department"])["Sales"]
    assert in_utc["2026-03"] == Decimal("2100")
    with timezone.override(zoneinfo.ZoneInfo("Europe/Berlin")):
        in_berlin = series(selectors.figures(EVERYTHING).spend["department"])["Sales"]
    assert in_berlin["2026-03"] == Decimal("2000")
    assert in_berlin["2026-04"] == Decimal("600")


def test_smaller_series_are_summed_as_other(world, monkeypatch):
    monkeypatch.setattr(selectors, "TOP_SERIES", 1)
    extra = {"category": world.requests["A"].category, "vendor": world.requests["A"].vendor}
    add_request(
        State.APPROVED, department=None, cost=50, submitted=at(6, 1), decided=at(6, 2), **extra
    )
    spend = selectors.figures(EVERYTHING).spend["department"]
    # Marketing 4000, Sales 2500, no department 50: the first shown, the other two summed.
    assert [(s.label, s.total) for s in spend.series] == [
        ("Marketing", Decimal("4000")),
        ("Other", Decimal("2550")),
    ]


def test_vendor_series_are_named_by_vendor_or_proposed_name(world, monkeypatch):
    """A request without a vendor counts under the name it proposed, or "None"; series with the
    same name are one series (a proposal naming a known vendor counts with it); beyond the
    largest TOP_SERIES, the rest is "Other"."""
    monkeypatch.setattr(selectors, "TOP_SERIES", 3)
    zoom = VendorFactory(name="Zoom")
    by_name = {"department": world.sales, "category": world.requests["A"].category}
    for vendor, proposed, cost, month in (
        (zoom, "", 700, 6),
        (None, "Dell", 100, 6),  # proposed as a vendor's name: Dell's series, 5100
        (None, "Figma", 2300, 6),
        (None, "", 40, 5),  # neither: "None"
        (None, "Notion", 30, 6),
    ):
        request = add_request(
            State.APPROVED, vendor=vendor, cost=cost, submitted=at(month, 1),
            decided=at(month, 2), **by_name,
        )  # fmt: skip
        PurchaseRequest.objects.filter(pk=request.pk).update(proposed_vendor_name=proposed)
    spend = selectors.figures(EVERYTHING).spend["vendor"]
    assert [(s.label, s.total) for s in spend.series] == [
        ("Dell", Decimal("5100")),
        ("Figma", Decimal("2300")),
        ("Miro", Decimal("1500")),
        ("Other", Decimal("770")),
    ]
    # Zoom 700, Notion 30 and the 40 with no name at all.
    assert series(spend)["Other"] == {"2026-05": Decimal("40"), "2026-06": Decimal("730")}


# ---- filters --------------------------------------------------------------------------------


def test_department_filter(world):
    figures = selectors.figures(EVERYTHING, FigureFilters(department=world.sales))
    # Sales: C 3 d, D 4 d, E 10 d decided; G in review.
    assert figures.cycle_time.median == days(4)
    assert figures.cycle_time.p90 == days(8.8)  # 4 + 0.8 x (10 - 4)
    decisions = figures.decisions
    assert (decisions.decided, decisions.approved, decisions.rejected) == (3, 2, 1)
    assert decisions.sent_back == 1
    assert (figures.open_value.count, figures.open_value.total) == (1, Decimal("1500.00"))
    sides = {s.side: s for s in figures.sides}
    assert (sides["it"].decided, sides["it"].total_time) == (2, hours(72))
    assert (figures.sla.breached, figures.sla.opened) == (2, 4)
    assert series(figures.spend["category"]) == {
        "Hardware": {"2026-03": Decimal("2000")},
        "SaaS subscription": {"2026-04": Decimal("500")},
    }


def test_date_filter_is_inclusive_on_submission_dates(world):
    figures = selectors.figures(
        EVERYTHING, FigureFilters(date_from=date(2026, 5, 1), date_to=date(2026, 5, 3))
    )
    # A (submitted 05-01 09:00) and B (05-03 00:00): 1 and 2 days.
    assert figures.cycle_time.count == 2
    assert figures.cycle_time.median == days(1.5)
    assert figures.cycle_time.p90 == days(1.9)
    assert figures.decisions.approved == 2
    assert figures.open_value.count == 0


def test_the_end_date_ends_the_spend_window(world):
    figures = selectors.figures(EVERYTHING, FigureFilters(date_to=date(2025, 12, 31)))
    spend = figures.spend["category"]
    assert spend.months[0] == date(2025, 1, 1)
    assert spend.months[-1] == date(2025, 12, 1)
    assert series(spend) == {"SaaS subscription": {"2025-05": Decimal("800")}}
    assert figures.cycle_time.median == days(5)


def test_no_requests_no_figures(now, db):
    figures = selectors.figures(EVERYTHING)
    assert figures.cycle_time == selectors.CycleTime(count=0, median=None, p90=None)
    assert figures.decisions.approval_rate is None
    assert figures.sla.rate is None
    assert figures.open_value.total == Decimal("0.00")
    assert figures.spend["vendor"].series == []
    assert figures.spend["vendor"].totals == [Decimal("0.00")] * 12
    assert [s.average_time for s in figures.sides] == [None, None, None]


# ---- scopes ---------------------------------------------------------------------------------


def test_leaders_and_admins_see_every_side(cio, cpo, admin_user):
    for user in (cio, cpo, admin_user):
        assert scope_for(user) == EVERYTHING


def test_requesters_see_no_figures(requester):
    with pytest.raises(PermissionDenied):
        scope_for(requester)


def test_an_it_reviewer_sees_the_it_side(world, it_reviewer):
    scope = scope_for(it_reviewer)
    assert scope == Scope(sides=frozenset({"it"}))
    figures = selectors.figures(scope)
    assert [s.side for s in figures.sides] == ["it"]
    assert (figures.sla.breached, figures.sla.opened) == (3, 5)
    # Requests with an IT step: A, B, E decided (1, 2, 10 days), F and G in review.
    assert figures.cycle_time.median == days(2)
    assert figures.cycle_time.p90 == days(8.4)  # 2 + 0.8 x (10 - 2)
    assert (figures.decisions.decided, figures.decisions.sent_back) == (3, 1)
    assert figures.open_value.total == Decimal("6500.00")
    assert series(figures.spend["category"]) == {
        "Hardware": {"2026-03": Decimal("2000"), "2026-05": Decimal("3000")},
        "SaaS subscription": {"2026-05": Decimal("1000")},
    }


def test_a_procurement_reviewer_counts_changes_asked_by_procurement(world, procurement):
    figures = selectors.figures(scope_for(procurement))
    assert [s.side for s in figures.sides] == ["procurement"]
    # IT sent E back; procurement's step of that round was superseded, not a request for changes.
    assert (figures.decisions.decided, figures.decisions.sent_back) == (3, 0)
    assert (figures.sla.breached, figures.sla.opened) == (1, 5)


def test_a_finance_reviewer_sees_requests_with_a_finance_step(world, finance_reviewer):
    figures = selectors.figures(scope_for(finance_reviewer))
    assert [(s.side, s.decided, s.average_time) for s in figures.sides] == [
        ("finance", 1, hours(6))
    ]
    assert figures.cycle_time.count == 1  # B only
    assert figures.cycle_time.median == days(2)
    assert figures.open_value.count == 0


def test_a_reviewer_of_two_sides_sees_both(world):
    both = UserFactory(username="bea", roles=["it_reviewers", "finance"])
    assert [s.side for s in selectors.figures(scope_for(both)).sides] == ["it", "finance"]


# ---- renewals and certificates --------------------------------------------------------------


def test_contracts_ending_and_certificates_expiring_in_the_next_90_days(renewals):
    figures = selectors.figures(EVERYTHING)
    assert [c.title for c in figures.renewals] == ["Ends today", "Ends on the horizon"]
    assert figures.renewals_count == 2
    assert [c.kind for c in figures.certificates] == ["iso27001", "gdpr_dpa"]
    assert figures.certificates_count == 2
