"""Fiscal years and how a request's cost falls into them (SPEC §8a). A fiscal year is named by
the calendar year it starts in and begins on the first day of TANDEM_FISCAL_YEAR_START_MONTH.
A request's term starts in the month of its needed-by date; its total cost in the base currency
is spread by its billing: a one-off in the month it starts, a monthly bill in each month of the
term, an annual bill every 12 months from the start (one per started year of the term).

`share_in_year` is the rule in Python; `budgets.selectors.share_expression` is the same rule
in SQL, and a test holds them to each other."""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

from intake.models import Billing, billing_periods

CENT = Decimal("0.01")


def start_month() -> int:
    return settings.TANDEM_FISCAL_YEAR_START_MONTH


def month_index(day: date) -> int:
    """Months since year 0: consecutive months have consecutive indexes."""
    return day.year * 12 + day.month - 1


def first_month(fiscal_year: int) -> int:
    return fiscal_year * 12 + start_month() - 1


def fiscal_year_of(day: date) -> int:
    return (month_index(day) - (start_month() - 1)) // 12


def bounds(fiscal_year: int) -> tuple[date, date]:
    """The first and the last day of a fiscal year."""
    first = date(fiscal_year, start_month(), 1)
    following = date(fiscal_year + 1, start_month(), 1)
    return first, date.fromordinal(following.toordinal() - 1)


def label(fiscal_year: int) -> str:
    """ "FY 2026" when the fiscal year is the calendar year, else "FY 2026/27"."""
    if start_month() == 1:
        return f"FY {fiscal_year}"
    return f"FY {fiscal_year}/{(fiscal_year + 1) % 100:02d}"


def periods(billing: str, term_months: int | None) -> int:
    """How many times the request is billed (intake's `billing_periods`); a recurring billing
    without a term yet counts once."""
    return billing_periods(billing, term_months) or 1


def payment_months(billing: str, term_months: int | None, starts: date) -> list[int]:
    """The month indexes in which the request is billed."""
    first = month_index(starts)
    if billing == Billing.MONTHLY:
        return [first + k for k in range(periods(billing, term_months))]
    if billing == Billing.ANNUAL:
        return [first + 12 * k for k in range(periods(billing, term_months))]
    return [first]


def fiscal_years(billing: str, term_months: int | None, starts: date | None) -> list[int]:
    """The fiscal years a request is billed in, in order."""
    if starts is None:
        return []
    offset = start_month() - 1
    return sorted({(m - offset) // 12 for m in payment_months(billing, term_months, starts)})


def share_in_year(
    total_base: Decimal | None, billing: str, term_months: int | None, starts: date | None,
    fiscal_year: int,
) -> Decimal:  # fmt: skip
    """The part of `total_base` billed in `fiscal_year`, rounded to the cent."""
    if total_base is None or starts is None:
        return Decimal("0")
    first = first_month(fiscal_year)
    months = payment_months(billing, term_months, starts)
    inside = sum(1 for m in months if first <= m < first + 12)
    return (total_base * inside / len(months)).quantize(CENT, rounding=ROUND_HALF_UP)
