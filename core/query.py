"""Integer query parameters, read strictly (SPEC §9: bad input is a clear 400, never a 500 and
never silently read as something else). A page number, a page size, a fiscal year, a stage or
an id is written in ASCII digits, with a minus sign at most: "2026.5", "2026.0", "1e3", "²",
" 7" and "x" are refused with a message naming the parameter, where Django's Paginator would
show page 1, django-filter's NumberFilter would compare 2026.5 with a whole-number column (the
database rounds), and Django's IntegerField would take "2026.0" as 2026.

- `integer_param(params, name)` for a view that reads one itself; `BadQueryParameter` is a 400:
  a page answers with the 400 page saying why (core.http.bad_request), the API with
  {name: [message]} (core.api.exception_handler).
- `StrictIntegerField` and `IntegerFilter` for forms and django-filter filter sets."""

import re

import django_filters
from django import forms
from django.core.exceptions import BadRequest

# A number as the database stores ids and counts: 64-bit. Larger ones are refused, never passed
# on (an OverflowError in the database driver would be a 500).
MIN_INTEGER = -(2**63)
MAX_INTEGER = 2**63 - 1
_DIGITS = re.compile(r"-?[0-9]+")


def not_an_integer_message(value) -> str:
    return f"Give a whole number, e.g. 2: “{str(value)[:40]}” is not one."


def out_of_range_message(low: int, high: int) -> str:
    if high == MAX_INTEGER:
        return f"Give a whole number of {low} or more."
    return f"Give a whole number from {low} to {high}."


class BadQueryParameter(BadRequest):
    """A query parameter that is not what the view reads: a 400 naming it."""

    def __init__(self, name: str, message: str):
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


def parse_integer(value) -> int | None:
    """The whole number `value` writes in ASCII digits, or None. One too long to be any
    64-bit number comes back as one past the bounds, so that the range check refuses it."""
    text = str(value)
    if not _DIGITS.fullmatch(text):
        return None
    if len(text.lstrip("-")) > 30:
        return MIN_INTEGER - 1 if text.startswith("-") else MAX_INTEGER + 1
    return int(text)


def checked_integer(value, *, min_value=MIN_INTEGER, max_value=MAX_INTEGER) -> int:
    """`value` as a whole number within the bounds, or ValueError with the message to show."""
    number = parse_integer(value)
    if number is None:
        raise ValueError(not_an_integer_message(value))
    if not min_value <= number <= max_value:
        raise ValueError(out_of_range_message(min_value, max_value))
    return number


def integer_param(params, name: str, *, default=None, min_value=MIN_INTEGER, max_value=MAX_INTEGER):
    """The query parameter `name` as a whole number (`default` when absent or empty); any other
    value, each of its values if it is given more than once, is BadQueryParameter (400)."""
    values = params.getlist(name) if hasattr(params, "getlist") else [params.get(name)]
    values = [value for value in values if value not in (None, "")]
    if not values:
        return default
    number = default
    for value in values:
        try:
            number = checked_integer(value, min_value=min_value, max_value=max_value)
        except ValueError as error:
            raise BadQueryParameter(name, str(error)) from None
    return number


def check_integer_params(params, *names: str, min_value=MIN_INTEGER) -> None:
    """Refuses (400) a value of any of these parameters that is not a whole number: for a view
    whose form or filter set would otherwise show the error and go on unfiltered."""
    for name in names:
        integer_param(params, name, min_value=min_value)


def page_number(params) -> int:
    """The `page` of a paged list page: 1 when not given; a page past the last shows the last
    (Paginator.get_page), a value that is no page number is a 400."""
    return integer_param(params, "page", default=1, min_value=1)


class StrictIntegerField(forms.IntegerField):
    """A form's whole number in digits only, 64-bit (see the module's docstring)."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        low = self.min_value if self.min_value is not None else MIN_INTEGER
        high = self.max_value if self.max_value is not None else MAX_INTEGER
        try:
            return checked_integer(value, min_value=low, max_value=high)
        except ValueError as error:
            raise forms.ValidationError(str(error), code="invalid") from None


class IntegerFilter(django_filters.NumberFilter):
    """django-filter's NumberFilter (a Decimal: "2026.5" is valid and the database rounds it)
    for a whole-number field: only a whole number is valid."""

    field_class = StrictIntegerField
