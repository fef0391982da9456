"""Bounds every input shares (SPEC §9: no input reaches a 500, bad input gets a message naming
its field). Models carry these validators, so the forms, the API serializers and the services'
`full_clean` all refuse the same values with the same words.

- Dates are between 1900-01-01 and 2199-12-31: date arithmetic (a day after `to`, a notice
  period before a contract's end) then never leaves Python's calendar.
- One-line text (titles, names, PO numbers) has no line breaks or other control characters:
  such text ends up in e-mail subjects and HTTP headers, where a line break is refused.
- Currencies are ISO 4217 codes in use today, from babel's copy of the Unicode CLDR (a
  maintained list: a currency withdrawn, like the Bulgarian lev in 2026, drops out with the
  next babel release).
- JSON bodies nest at most MAX_JSON_DEPTH levels: the parser recurses per level.
- Free text a person writes (descriptions, justifications, comments, reasons, questions and
  answers, vendor notes) holds at most MAX_TEXT characters: it is shown on every page and in
  every e-mail about its subject. Models carry `validate_text_length`; forms and serializers
  whose fields are no model's carry it too, and services that store text without a model's
  `full_clean` (a decision's comment from an e-mail reply or Slack) call `check_text`."""

import re
import unicodedata
import zoneinfo
from datetime import date
from functools import cache
from itertools import accumulate

from babel.core import get_global
from babel.numbers import get_currency_name, get_territory_currencies
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils import timezone
from django.utils.deconstruct import deconstructible

EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)
DATE_RANGE_MESSAGE = "Enter a date between 1900-01-01 and 2199-12-31."


def validate_date_in_range(value) -> None:
    """Refuses a date outside 1900-01-01 .. 2199-12-31."""
    if value is None:
        return
    day = value.date() if hasattr(value, "date") else value
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise ValidationError(DATE_RANGE_MESSAGE, code="date_out_of_range")


# Characters that end a line or control a terminal: C0 and C1 controls (tab, CR, LF, NEL, ESC…),
# DEL, and the Unicode line and paragraph separators. Format characters (Cf, e.g. the
# right-to-left marks of Arabic or Hebrew names) are text and stay.
_LINE_BREAKING_CATEGORIES = {"Cc", "Zl", "Zp"}
ONE_LINE_MESSAGE = "Keep this to one line: no line breaks, tabs or other control characters."


def has_control_characters(text: str) -> bool:
    return any(unicodedata.category(char) in _LINE_BREAKING_CATEGORIES for char in text)


@deconstructible
class OneLineValidator:
    """Refuses line breaks, tabs and other control characters in a one-line field."""

    message = ONE_LINE_MESSAGE
    code = "not_one_line"

    def __call__(self, value) -> None:
        if isinstance(value, str) and has_control_characters(value):
            raise ValidationError(self.message, code=self.code)

    def __eq__(self, other):
        return isinstance(other, OneLineValidator)

    def __hash__(self):
        return hash(self.code)


validate_one_line = OneLineValidator()


def one_line(text: str) -> str:
    """`text` on one line: every run of whitespace and control characters becomes one space.
    For text that leaves Tandem in a header (e-mail subjects), whatever was stored."""
    if text.isprintable() and "  " not in text:
        # Nothing to replace (printable text holds no control character, line or paragraph
        # separator, and no whitespace but the space): the common case, without a look at
        # each character.
        return text.strip(" ")
    cleaned = "".join(
        " " if unicodedata.category(char) in _LINE_BREAKING_CATEGORIES else char for char in text
    )
    return re.sub(r"\s+", " ", cleaned).strip()


@cache
def _currencies_on(day: date) -> tuple[str, ...]:
    codes = set()
    for territory in get_global("territory_currencies"):
        codes.update(get_territory_currencies(territory, start_date=day, tender=True))
    return tuple(sorted(codes))


def currency_codes() -> tuple[str, ...]:
    """ISO 4217 codes of the currencies legal tender somewhere today (CLDR, through babel)."""
    return _currencies_on(timezone.now().date())


def currency_choices() -> list[tuple[str, str]]:
    return [(code, f"{code} – {get_currency_name(code, locale='en')}") for code in currency_codes()]


CURRENCY_MESSAGE = "“{input}” is not the ISO 4217 code of a currency in use (e.g. EUR, USD, GBP)."


def validate_currency(value) -> None:
    """Refuses anything but an ISO 4217 code of a currency in use (not any three letters)."""
    if value not in currency_codes():
        raise ValidationError(
            CURRENCY_MESSAGE.replace("{input}", "%(value)s"),
            code="invalid_currency",
            params={"value": str(value)[:10]},
        )


MAX_TEXT = 20_000


def text_too_long_message(length: int) -> str:
    return f"Keep it under {MAX_TEXT:,} characters: this is {length:,}."


@deconstructible
class TextLengthValidator(MaxLengthValidator):
    """Refuses free text longer than MAX_TEXT characters, saying how long it is. A
    MaxLengthValidator, so that the OpenAPI schema states the limit (maxLength)."""

    code = "text_too_long"

    def __init__(self):
        super().__init__(MAX_TEXT)

    def __call__(self, value) -> None:
        if isinstance(value, str) and len(value) > MAX_TEXT:
            raise ValidationError(text_too_long_message(len(value)), code=self.code)

    def __eq__(self, other):
        return isinstance(other, TextLengthValidator)

    def __hash__(self):
        return hash(self.code)


validate_text_length = TextLengthValidator()


def check_text(**fields: str) -> None:
    """The MAX_TEXT bound for a service that stores text without a model's `full_clean`:
    ValidationError naming each field too long (`check_text(comment=comment)`)."""
    errors = {}
    for name, text in fields.items():
        try:
            validate_text_length(text)
        except ValidationError as error:
            errors[name] = error.messages
    if errors:
        raise ValidationError(errors)


MAX_JSON_DEPTH = 32
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def json_depth(text: str) -> int:
    """How deep arrays and objects nest in `text` (brackets inside strings do not count),
    without parsing it: json.loads recurses per level and a body 1,000 levels deep would end
    in RecursionError."""
    brackets = _NOT_A_BRACKET.sub("", _JSON_STRING.sub("", text))
    if not brackets:
        return 0
    return max(accumulate(_DEPTH_STEP[char] for char in brackets))


@cache
def time_zones() -> frozenset[str]:
    """The IANA zone names this machine knows (its tz database). Validated against, never
    written into a migration as choices: a tzdata update must not change the schema."""
    return frozenset(zoneinfo.available_timezones())


def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(time_zones())]


def validate_time_zone(value) -> None:
    """Refuses a name that is not a time zone of the tz database ("Europe/Berlin")."""
    if value and value not in time_zones():
        raise ValidationError(
            "Choose a time zone from the list (e.g. Europe/Berlin).", code="invalid_time_zone"
        )
