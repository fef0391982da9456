"""How the dashboard writes durations, rates and amounts."""

from datetime import timedelta
from decimal import Decimal

from django import template

register = template.Library()

DASH = "—"


def hours(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds() / 3600


@register.filter
def duration(value: timedelta | None) -> str:
    """Under two days in hours ("5.5 h"), beyond in days ("3.2 days")."""
    if value is None:
        return DASH
    total = hours(value)
    if total < 48:
        return f"{total:.1f} h"
    return f"{total / 24:.1f} days"


@register.filter
def percent(value: float | None) -> str:
    return DASH if value is None else f"{value * 100:.1f} %"


@register.filter
def amount(value: Decimal | None) -> str:
    """Thousands separated, no cents: figures, not invoices."""
    return DASH if value is None else f"{value:,.0f}"
