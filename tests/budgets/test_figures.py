"""Budget figures: committed, in flight and available, by fiscal year and billing schedule,
against a hand computation (SPEC §8a)."""

from datetime import date
from decimal import Decimal

import pytest

from budgets import fiscal, selectors
from budgets.models import Budget
from intake.models import PurchaseRequest
from tests.factories import DepartmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger(charged, software):
    """The requests of Marketing, by hand, for fiscal year 2026 (January to December):

    A approved, one-off 10,000 in March 2026 (software)           committed 10,000
    B ordered, monthly 24,000 over 24 months from July 2026      committed  6,000 (6 months)
    C in review, annual 9,000 over 30 months from November 2025  in flight  3,000 (1 of 3 bills)
      (software)
    G closed, one-off 2,000 in January 2026                      committed  2,000
    H in review, one-off 4,000 in February 2027                  —  (next year)
    D draft 50,000, E rejected 7,000, F approved in another department: not counted.
    """
    return {
        "A": charged("approved", "10000", date(2026, 3, 10), category=software),
        "B": charged("ordered", "24000", date(2026, 7, 1), billing="monthly", term=24),
        "C": charged(
            "in_review", "9000", date(2025, 11, 15), billing="annual", term=30, category=software
        ),
        "G": charged("closed", "2000", date(2026, 1, 5)),
        "H": charged("in_review", "4000", date(2027, 2, 1)),
        "D": charged("draft", "50000", date(2026, 5, 1)),
        "E": charged("rejected", "7000", date(2026, 5, 1)),
        "F": charged("approved", "8000", date(2026, 5, 1), department=DepartmentFactory()),
    }


def test_figures_match_a_hand_computation(ledger, make_budget, software):
    department_budget = make_budget("100000")
    software_budget = make_budget("20000", category=software)

    figures = {b.pk: b for b in selectors.with_figures(Budget.objects.all())}

    whole = figures[department_budget.pk]
    assert (whole.committed, whole.in_flight, whole.available) == (
        Decimal("18000.00"),
        Decimal("3000.00"),
        Decimal("79000.00"),
    )
    per_category = figures[software_budget.pk]
    assert (per_category.committed, per_category.in_flight, per_category.available) == (
        Decimal("10000.00"),
        Decimal("3000.00"),
        Decimal("7000.00"),
    )


def test_a_multi_year_request_counts_in_each_year_by_its_billing(ledger, make_budget):
    budgets = {year: make_budget("100000", fiscal_year=year) for year in (2025, 2026, 2027, 2028)}
    figures = {b.fiscal_year: b for b in selectors.with_figures(Budget.objects.all())}
    # B monthly: 6 months in 2026, 12 in 2027, 6 in 2028; C annual: bills in 2025, 2026, 2027.
    assert figures[2025].in_flight == Decimal("3000.00")
    assert figures[2027].committed == Decimal("12000.00")
    assert figures[2027].in_flight == Decimal("3000.00") + Decimal("4000.00")
    assert figures[2028].committed == Decimal("6000.00")
    assert len(budgets) == 4


def test_fiscal_years_may_start_in_another_month(settings, ledger, make_budget):
    settings.TANDEM_FISCAL_YEAR_START_MONTH = 4  # FY 2026 = April 2026 to March 2027
    budget = make_budget("50000")
    figures = selectors.with_figures(Budget.objects.filter(pk=budget.pk)).get()
    # B: July 2026 to March 2027 is 9 months; A (March 2026) and G fall in FY 2025; C bills in
    # November 2026; H in February 2027.
    assert figures.committed == Decimal("9000.00")
    assert figures.in_flight == Decimal("3000.00") + Decimal("4000.00")
    assert fiscal.label(2026) == "FY 2026/27"
    assert fiscal.bounds(2026) == (date(2026, 4, 1), date(2027, 3, 31))


@pytest.mark.parametrize(
    ("billing", "term", "starts"),
    [
        ("one_off", None, date(2026, 12, 31)),
        ("monthly", 7, date(2026, 9, 1)),
        ("monthly", 36, date(2025, 2, 1)),
        ("annual", 12, date(2026, 1, 1)),
        ("annual", 25, date(2024, 12, 1)),
        ("annual", 120, date(2020, 6, 1)),
    ],
)
def test_the_sql_share_is_the_python_share(charged, billing, term, starts):
    purchase_request = charged("in_review", "1000", starts, billing=billing, term=term)
    for year in range(2019, 2032):
        share, helpers = selectors.share_expression(year)
        in_sql = (
            PurchaseRequest.objects.filter(pk=purchase_request.pk)
            .annotate(**helpers)
            .annotate(share=share)
            .values_list("share", flat=True)
            .get()
        )
        expected = fiscal.share_in_year(Decimal("1000"), billing, term, starts, year)
        assert Decimal(in_sql).quantize(Decimal("0.01")) == expected, year


def test_the_budget_list_takes_one_query(ledger, make_budget, software, django_assert_num_queries):
    for year in (2025, 2026, 2027):
        make_budget("1000", fiscal_year=year)
        make_budget("1000", fiscal_year=year, category=software)
    with django_assert_num_queries(1):
        rows = list(selectors.budget_list())
    assert len(rows) == 6
    assert all(row.department.name and row.owner.username for row in rows)


def test_the_budget_list_built_once_per_process_follows_the_data_and_the_fiscal_start(
    settings, ledger, make_budget
):
    """The list's expressions are resolved once per process and fiscal start month; every call
    still reads the budgets and requests as they are."""
    first = make_budget("100000")
    assert [b.committed for b in selectors.budget_list(fiscal_year=2026)] == [Decimal("18000.00")]
    second = make_budget("50000", fiscal_year=2027)
    assert {b.pk for b in selectors.budget_list()} == {first.pk, second.pk}
    settings.TANDEM_FISCAL_YEAR_START_MONTH = 4  # FY 2026 = April 2026 to March 2027
    assert [b.committed for b in selectors.budget_list(fiscal_year=2026)] == [Decimal("9000.00")]
