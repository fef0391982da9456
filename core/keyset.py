"""Keyset pagination for long lists ordered by (key, id), the key a due time by default: each
page continues after the last row of the previous one, so page 400 costs what page 1 costs and
no COUNT is needed. Other keys (an age, an amount) and descending orders work the same way."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from django.db.models import Q

from core.validation import EARLIEST_DATE, LATEST_DATE


@dataclass
class KeysetPage:
    rows: list
    next_after: str | None  # the `after` value of the next page, or None on the last page


@dataclass(frozen=True)
class Keyset:
    """How a list is ordered: by `key` (a field or an annotation that is never null), then by
    id, ascending or descending; `parse` reads the key back from a token."""

    key: str = "due_at"
    descending: bool = False
    parse: Callable[[str], object] = datetime.fromisoformat
    show: Callable[[object], str] = lambda value: value.isoformat()

    def order_by(self) -> list[str]:
        sign = "-" if self.descending else ""
        return [f"{sign}{self.key}", f"{sign}id"]


BY_DUE = Keyset()


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError(text) from None


BY_AMOUNT_DESC = Keyset(key="sort_amount", descending=True, parse=_decimal, show=str)


def keyset_page(queryset, after: str | None, size: int, keyset: Keyset = BY_DUE) -> KeysetPage:
    """`queryset` ordered by `keyset.order_by()`; `after` is the token of the previous page."""
    position = _parse(after, keyset)
    if position is not None:
        value, pk = position
        beyond = "lt" if keyset.descending else "gt"
        queryset = queryset.filter(
            Q(**{f"{keyset.key}__{beyond}": value}) | Q(**{keyset.key: value, f"id__{beyond}": pk})
        )
    rows = list(queryset[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    next_after = f"{keyset.show(getattr(rows[-1], keyset.key))}_{rows[-1].pk}" if more else None
    return KeysetPage(rows=rows, next_after=next_after)


def _parse(after: str | None, keyset: Keyset):
    if not after or "_" not in after:
        return None
    value, _, pk = after.rpartition("_")
    try:
        key, pk = keyset.parse(value), int(pk)
    except (ValueError, OverflowError):
        return None  # a mangled token starts from the first page
    if isinstance(key, datetime) and not in_calendar(key):
        return None
    return (key, pk) if 0 <= pk < 2**63 else None


def in_calendar(moment: datetime) -> bool:
    """Whether the database can compare with `moment`: in UTC (where it is stored) it is
    still within the dates Tandem accepts. 9999-12-31T23:00-14:00 is in year 10000 there."""
    try:
        utc = moment.astimezone(UTC) if moment.tzinfo else moment
    except OverflowError:
        return False
    return EARLIEST_DATE <= utc.date() <= LATEST_DATE
