"""Keyset pagination for long lists ordered by (due_at, id): each page continues after the last
row of the previous one, so page 400 costs what page 1 costs and no COUNT is needed."""

from dataclasses import dataclass
from datetime import UTC, datetime

from django.db.models import Q

from core.validation import EARLIEST_DATE, LATEST_DATE


@dataclass
class KeysetPage:
    rows: list
    next_after: str | None  # the `after` value of the next page, or None on the last page


def keyset_page(queryset, after: str | None, size: int) -> KeysetPage:
    """`queryset` ordered by ("due_at", "id"); `after` is the token of the previous page."""
    position = _parse(after)
    if position is not None:
        due_at, pk = position
        queryset = queryset.filter(Q(due_at__gt=due_at) | Q(due_at=due_at, id__gt=pk))
    rows = list(queryset[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    next_after = f"{rows[-1].due_at.isoformat()}_{rows[-1].pk}" if more else None
    return KeysetPage(rows=rows, next_after=next_after)


def _parse(after: str | None):
    if not after or "_" not in after:
        return None
    due_at, _, pk = after.rpartition("_")
    try:
        moment, pk = datetime.fromisoformat(due_at), int(pk)
    except ValueError:
        return None  # a mangled token starts from the first page
    return (moment, pk) if in_calendar(moment) and 0 <= pk < 2**63 else None


def in_calendar(moment: datetime) -> bool:
    """Whether the database can compare with `moment`: in UTC (where it is stored) it is
    still within the dates Tandem accepts. 9999-12-31T23:00-14:00 is in year 10000 there."""
    try:
        utc = moment.astimezone(UTC) if moment.tzinfo else moment
    except OverflowError:
        return False
    return EARLIEST_DATE <= utc.date() <= LATEST_DATE
