"""How the dashboard writes durations, rates and amounts."""

from datetime import timedelta
from decimal import Decimal

from django import template

register = template.Library()

DASH = "—"


def hours(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds() / 3600


# (unit, hours in one unit, largest value in hours shown in it): minutes under an hour, hours
# under two days, days beyond; a step decided within minutes never reads "0.0 h".
UNITS = (("minutes", 1 / 60, 1), ("hours", 1, 48), ("days", 24, None))


def unit_for(total_hours: float) -> tuple[str, float]:
    """The unit that fits a number of hours, and the hours in one of it."""
    for unit, size, below in UNITS:
        if below is None or total_hours < below:
            return unit, size
    raise AssertionError("the last unit has no upper bound")


@register.filter
def duration(value: timedelta | None) -> str:
    """ "12 min" under an hour, "5.5 h" under two days, "3.2 days" beyond."""
    if value is None:
        return DASH
    total = hours(value)
    unit, size = unit_for(total)
    if unit == "minutes":
        minutes = round(total * 60)
        return "under a minute" if minutes < 1 else f"{minutes} min"
    if unit == "hours":
        return f"{total:.1f} h"
    return f"{total / size:.1f} days"


@register.filter
def percent(value: float | None) -> str:
    return DASH if value is None else f"{value * 100:.1f} %"


@register.filter
def amount(value: Decimal | None) -> str:
    """Thousands separated, no cents: figures, not invoices."""
    return DASH if value is None else f"{value:,.0f}"
