"""One way to show money, dates and times, for pages, e-mails and messages alike.

Money: thousands separators, the currency's own number of decimals and its ISO 4217 code, in
the active language's conventions ("30,000.00 EUR" in English, "30.000,00 EUR" in German).
Times: in the active time zone (the signed-in user's, set by core.middleware), with the zone's
abbreviation, e.g. "1 Dec 2026, 09:05 CET"; dates as "1 Dec 2026"."""

import functools
import zoneinfo
from contextlib import contextmanager, suppress
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from babel import Locale
from babel.numbers import (
    UnknownCurrencyError,
    format_currency,
    get_currency_precision,
    parse_pattern,
)
from django.utils import timezone
from django.utils.dateformat import format as django_format
from django.utils.translation import get_language, gettext, ngettext, to_locale

# The ISO code after the amount: "30,000.00 EUR". Patterns parsed once, not at every amount.
MONEY_PATTERN = parse_pattern("#,##0.00 ¤¤")
PLAIN_PATTERN = parse_pattern("#,##0.00")
DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i T"
EMPTY = "—"


def _locale() -> Locale:
    return _babel_locale(get_language() or "en-us")


@functools.cache
def _babel_locale(language: str) -> Locale:
    """Babel's locale of a language, parsed once per process (a list page formats hundreds of
    amounts)."""
    return Locale.parse(to_locale(language))


def badge_count(queryset, cap: int = 99) -> int | str:
    """How many rows, as a menu badge shows it: the number up to `cap`, then "99+". Counts at
    most `cap` + 1 rows, so that a user's thousands cost no more than a hundred."""
    found = queryset.order_by()[: cap + 1].count()
    return f"{cap}+" if found > cap else found


def money(amount, currency: str = "") -> str:
    """`amount` with thousands separators and its currency code; "—" when there is none."""
    if amount is None or amount == "":
        return EMPTY
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        return str(amount)
    if not currency:
        return format_currency(value, "XXX", format=PLAIN_PATTERN, locale=_locale())
    try:
        return format_currency(
            value, currency, format=MONEY_PATTERN, locale=_locale(), currency_digits=True
        )
    except (UnknownCurrencyError, ValueError):
        return f"{format_currency(value, 'XXX', format=PLAIN_PATTERN, locale=_locale())} {currency}"


def currency_digits(currency: str) -> int:
    """How many decimals `money` shows for amounts in `currency` (CLDR's: EUR 2, JPY 0, BHD 3):
    what the request form's script is told, so that it writes amounts the same way."""
    return get_currency_precision(currency)


def zone_named(name: str) -> zoneinfo.ZoneInfo | None:
    """The time zone of this IANA name; None for none, or for a name this machine lacks."""
    try:
        return zoneinfo.ZoneInfo(name) if name else None
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


@contextmanager
def times_for(person, fallback=None):
    """Times formatted inside read in `person`'s own time zone (their `time_zone`), else in
    `fallback` (e.g. their team's), else UTC: for what is written to one person away from a
    page (an answer to an e-mail reply, a Slack message), where no middleware set their zone."""
    with timezone.override(zone_named(getattr(person, "time_zone", "") or "") or fallback):
        yield


def _local(moment: datetime) -> datetime:
    """An aware moment in the active time zone; at the ends of the calendar, where the local
    time may not exist, it stays in UTC."""
    if timezone.is_aware(moment):
        with suppress(OverflowError, ValueError):
            return timezone.localtime(moment)
    return moment


def when(value) -> str:
    """A moment in the active time zone: "1 Dec 2026, 09:05 CET"."""
    if not value:
        return EMPTY
    if isinstance(value, datetime):
        return django_format(_local(value), DATETIME_FORMAT)
    if isinstance(value, date):
        return day(value)
    return str(value)


def due(value, now=None, *, dated: bool = False) -> str:
    """A due time in plain words, in the active time zone: "today 16:00", "tomorrow 09:00",
    "Monday 16:00" within the coming week, "yesterday 16:00", "last Friday 16:00" within the
    past week, else "Monday 14 Dec 2026, 16:00"; the zone's abbreviation after it ("CET").
    `dated` adds the date to the near ones, for messages read later: "Monday 16:00 CET
    (7 Dec 2026)"."""
    if not isinstance(value, datetime):
        return when(value)
    moment = _local(value)
    today = _local(now or timezone.now()).date()
    days = (moment.date() - today).days
    # The reminder sweep words thousands of due times: the clock is formatted for each, the
    # day's words (a weekday, a date) once per day and language.
    time = django_format(moment, "H:i T")
    if dated and -7 < days < 7:
        time = f"{time} ({_day_words(moment.date(), DATE_FORMAT, get_language())})"
    if days == 0:
        return f"today {time}"
    if days == 1:
        return f"tomorrow {time}"
    if days == -1:
        return f"yesterday {time}"
    weekday = _day_words(moment.date(), "l", get_language())
    if 1 < days < 7:
        return f"{weekday} {time}"
    if -7 < days < -1:
        return f"last {weekday} {time}"
    return f"{_day_words(moment.date(), 'l j M Y,', get_language())} {time}"


@functools.lru_cache(maxsize=1024)
def _day_words(value: date, format: str, language: str | None) -> str:
    """A day in words (only day format characters): for `due`, keyed by the language too."""
    return django_format(value, format)


def day(value, *, weekday: bool = False) -> str:
    """A calendar date: "1 Dec 2026"; with its `weekday` as `due` writes far days, "Tuesday 1 Dec
    2026" (for dates to plan by)."""
    if not value:
        return EMPTY
    if isinstance(value, datetime):
        value = _local(value).date()
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return value
    if weekday:
        return _day_words(value, f"l {DATE_FORMAT}", get_language())
    return django_format(value, DATE_FORMAT)


def duration(value) -> str:
    """A length of time in words: timedelta(minutes=5) -> "5 minutes", timedelta(hours=1,
    minutes=30) -> "1 hour 30 minutes"; never "0:05:00". Days, hours, minutes and seconds,
    leaving out the parts that are zero."""
    if not isinstance(value, timedelta):
        return EMPTY
    seconds = int(value.total_seconds())
    if seconds <= 0:
        return gettext("no time")
    parts = []
    for size, one, many in (
        (86400, "%(n)d day", "%(n)d days"),
        (3600, "%(n)d hour", "%(n)d hours"),
        (60, "%(n)d minute", "%(n)d minutes"),
        (1, "%(n)d second", "%(n)d seconds"),
    ):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(ngettext(one, many, count) % {"n": count})
    return " ".join(parts)
