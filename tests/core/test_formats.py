"""One way to show money, dates and times (issue 14, item 2)."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from core import formats


def test_money_has_thousands_separators_and_the_currency_code():
    assert formats.money(Decimal("30000"), "EUR") == "30,000.00 EUR"
    assert formats.money(Decimal("1234567.5"), "USD") == "1,234,567.50 USD"


def test_money_uses_the_currencys_own_decimals():
    assert formats.money(Decimal("30000"), "JPY") == "30,000 JPY"


def test_money_follows_the_active_language():
    with translation.override("de"):
        assert formats.money(Decimal("30000"), "EUR") == "30.000,00 EUR"


def test_no_amount_is_a_dash():
    assert formats.money(None, "EUR") == "—"


def test_times_are_shown_in_the_active_time_zone_with_its_name():
    moment = datetime(2026, 12, 1, 8, 5, tzinfo=UTC)
    with timezone.override("Europe/Berlin"):
        assert formats.when(moment) == "1 Dec 2026, 09:05 CET"
    with timezone.override("America/New_York"):
        assert formats.when(moment) == "1 Dec 2026, 03:05 EST"


def test_dates_and_stored_iso_dates_read_the_same():
    assert formats.day(date(2026, 3, 9)) == "9 Mar 2026"
    assert formats.day("2026-03-09") == "9 Mar 2026"
    assert formats.day(None) == "—"


def test_every_template_has_the_filters_without_loading_them():
    template = Template(
        "{{ amount|money:'EUR' }} | {{ moment|when }} | {{ today|day }} | {{ code|role_label }}"
    )
    with timezone.override("Europe/Berlin"):
        text = template.render(
            Context(
                {
                    "amount": Decimal("2880"),
                    "moment": datetime(2026, 7, 1, 12, 0, tzinfo=UTC),
                    "today": date(2026, 7, 1),
                    "code": "it_reviewers",
                }
            )
        )
    assert text == "2,880.00 EUR | 1 Jul 2026, 14:00 CEST | 1 Jul 2026 | IT review"


def test_the_ends_of_the_calendar_never_fail():
    with timezone.override("Pacific/Kiritimati"):
        assert formats.when(datetime(9999, 12, 31, 23, 0, tzinfo=UTC)) == "31 Dec 9999, 23:00 UTC"
    with timezone.override("America/Los_Angeles"):
        assert formats.day(datetime(1, 1, 1, 0, 0, tzinfo=UTC)) == "1 Jan 0001"


def test_due_times_read_in_plain_words_in_the_active_time_zone():
    now = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)  # Friday 16:00 in Berlin
    with timezone.override("Europe/Berlin"):
        assert formats.due(datetime(2026, 12, 4, 16, tzinfo=UTC), now) == "today 17:00 CET"
        assert formats.due(datetime(2026, 12, 5, 8, tzinfo=UTC), now) == "tomorrow 09:00 CET"
        assert formats.due(datetime(2026, 12, 7, 15, tzinfo=UTC), now) == "Monday 16:00 CET"
        assert formats.due(datetime(2026, 12, 3, 15, tzinfo=UTC), now) == "yesterday 16:00 CET"
        assert formats.due(datetime(2026, 11, 30, 8, tzinfo=UTC), now) == "last Monday 09:00 CET"
        assert (
            formats.due(datetime(2026, 12, 14, 8, tzinfo=UTC), now)
            == "Monday 14 Dec 2026, 09:00 CET"
        )
        assert (
            formats.due(datetime(2026, 12, 7, 15, tzinfo=UTC), now, dated=True)
            == "Monday 16:00 CET (7 Dec 2026)"
        )
    with timezone.override("America/New_York"):
        assert formats.due(datetime(2026, 12, 7, 15, tzinfo=UTC), now) == "Monday 10:00 EST"
    assert formats.due(None) == "—"


@pytest.mark.django_db
def test_a_badge_counts_up_to_its_cap_then_says_plus():
    """The navigation's "Waiting for me" and the bell both count through badge_count."""
    groups = Group.objects.filter(name__startswith="badge-")
    assert formats.badge_count(groups, cap=2) == 0
    Group.objects.bulk_create(Group(name=f"badge-{n}") for n in range(2))
    assert formats.badge_count(groups, cap=2) == 2
    Group.objects.create(name="badge-3")
    with CaptureQueriesContext(connection) as queries:
        assert formats.badge_count(groups, cap=2) == "2+"
    assert "LIMIT 3" in queries[0]["sql"]


@pytest.mark.parametrize(
    ("length", "words"),
    [
        (timedelta(minutes=5), "5 minutes"),
        (timedelta(minutes=15), "15 minutes"),
        (timedelta(seconds=60), "1 minute"),
        (timedelta(hours=1, minutes=30), "1 hour 30 minutes"),
        (timedelta(days=2, seconds=1), "2 days 1 second"),
        (timedelta(0), "no time"),
    ],
)
def test_a_length_of_time_is_said_in_words(length, words):
    assert formats.duration(length) == words
