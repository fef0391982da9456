"""The working-time clock (core.working_hours): examples across weekends, holidays and the
daylight-saving changes, and properties that hold for any start, span and calendar."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.working_hours import WorkingHours, add_working_time, working_time_between

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
OFFICE = WorkingHours(zone=BERLIN)  # Monday to Friday, 9 to 17


def local(zone, *args):
    return datetime(*args, tzinfo=zone)


def test_friday_16_plus_8_hours_is_monday_16():
    # 4 Dec 2026 is a Friday.
    due = add_working_time(local(BERLIN, 2026, 12, 4, 16), 8, OFFICE)
    assert due == local(BERLIN, 2026, 12, 7, 16)
    assert due.tzinfo is UTC


def test_a_start_outside_hours_counts_from_the_next_morning():
    assert add_working_time(local(BERLIN, 2026, 12, 5, 11), 1, OFFICE) == local(
        BERLIN, 2026, 12, 7, 10
    )  # Saturday 11:00 + 1 h = Monday 10:00
    assert add_working_time(local(BERLIN, 2026, 12, 7, 6), 8, OFFICE) == local(
        BERLIN, 2026, 12, 7, 17
    )  # before opening: the whole day


def test_work_ending_exactly_at_closing_is_due_at_closing():
    assert add_working_time(local(BERLIN, 2026, 12, 7, 9), 8, OFFICE) == local(
        BERLIN, 2026, 12, 7, 17
    )


def test_public_holidays_and_closures_do_not_count():
    christmas = {date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 31)}
    office = WorkingHours(zone=BERLIN, is_closed=christmas.__contains__)
    # Wed 23 Dec 16:00 + 8 h: 1 h on Wednesday, Thu 24 and Fri 25 closed, weekend, Mon 28 7 h.
    assert add_working_time(local(BERLIN, 2026, 12, 23, 16), 8, office) == local(
        BERLIN, 2026, 12, 28, 16
    )
    assert working_time_between(
        local(BERLIN, 2026, 12, 23, 9), local(BERLIN, 2027, 1, 4, 9), office
    ) == timedelta(hours=8 * 5)  # 23, 28, 29, 30 Dec and Fri 1 Jan 2027 (not closed here)


def test_the_spring_daylight_saving_change_inside_working_hours_shortens_the_day():
    # Night work 00:00 to 06:00 in Berlin; on 29 Mar 2026 the clock jumps from 02:00 to 03:00.
    nights = WorkingHours(zone=BERLIN, weekdays=frozenset(range(7)), start=time(0), end=time(6))
    assert working_time_between(
        local(BERLIN, 2026, 3, 29, 0), local(BERLIN, 2026, 3, 29, 6), nights
    ) == timedelta(hours=5)
    assert add_working_time(local(BERLIN, 2026, 3, 29, 0), 5, nights) == local(
        BERLIN, 2026, 3, 29, 6
    )


def test_office_hours_keep_their_wall_clock_across_the_autumn_change():
    # New York leaves daylight saving on Sunday 1 Nov 2026: Friday 16:00 EDT + 8 h is Monday
    # 16:00 EST, 73 elapsed hours (72 + the hour the clocks went back).
    office = WorkingHours(zone=NEW_YORK)
    start = local(NEW_YORK, 2026, 10, 30, 16)
    due = add_working_time(start, 8, office)
    assert due == local(NEW_YORK, 2026, 11, 2, 16)
    assert due - start == timedelta(hours=73)
    assert due.astimezone(NEW_YORK).utcoffset() == timedelta(hours=-5)


def test_around_the_clock_is_elapsed_time():
    clock = WorkingHours.around_the_clock(BERLIN)
    start = local(BERLIN, 2026, 3, 28, 22)
    # across the spring change: 48 real hours, the wall clock shows 49 later
    assert add_working_time(start, 48, clock) == start.astimezone(UTC) + timedelta(hours=48)


def test_zero_hours_is_the_start_and_naive_times_are_refused():
    start = local(BERLIN, 2026, 12, 5, 11)
    assert add_working_time(start, 0, OFFICE) == start
    with pytest.raises(ValueError):
        add_working_time(datetime(2026, 12, 5, 11), 1, OFFICE)


def test_a_calendar_without_working_days_or_hours_is_refused():
    with pytest.raises(ValueError):
        WorkingHours(zone=BERLIN, weekdays=frozenset())
    with pytest.raises(ValueError):
        WorkingHours(zone=BERLIN, start=time(17), end=time(9))


def test_a_calendar_closed_for_ever_raises_instead_of_looping():
    closed = WorkingHours(zone=BERLIN, is_closed=lambda day: True)
    with pytest.raises(ValueError):
        add_working_time(local(BERLIN, 2026, 12, 4, 16), 1, closed)


# Properties over any start, span and calendar.

ZONES = st.sampled_from(
    [ZoneInfo(z) for z in ("UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney")]
)
moments = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=ZONES
)
hours = st.integers(min_value=0, max_value=60 * 24 * 4).map(lambda m: timedelta(minutes=m))


@st.composite
def calendars(draw):
    zone = draw(ZONES)
    weekdays = draw(st.frozensets(st.integers(0, 6), min_size=1))
    start = draw(st.integers(0, 23 * 4 - 1))
    end = draw(st.integers(start + 1, 24 * 4))
    closed = draw(st.frozensets(st.dates(date(2025, 1, 1), date(2029, 1, 1)), max_size=20))
    return WorkingHours(
        zone=zone,
        weekdays=weekdays,
        start=time(start // 4, start % 4 * 15),
        end=time(0) if end == 96 else time(end // 4, end % 4 * 15),
        is_closed=closed.__contains__,
    )


@settings(max_examples=300, deadline=None)
@given(start=moments, span=hours, calendar=calendars())
def test_the_working_time_up_to_the_due_time_is_the_sla(start, span, calendar):
    due = add_working_time(start, span, calendar)
    assert due >= start
    assert working_time_between(start, due, calendar) == span


@settings(max_examples=300, deadline=None)
@given(start=moments, first=hours, second=hours, calendar=calendars())
def test_adding_in_two_goes_is_adding_at_once(start, first, second, calendar):
    once = add_working_time(start, first + second, calendar)
    twice = add_working_time(add_working_time(start, first, calendar), second, calendar)
    assert twice == once


@settings(max_examples=300, deadline=None)
@given(moments=st.lists(moments, min_size=3, max_size=3), calendar=calendars())
def test_working_time_adds_up_and_never_exceeds_elapsed_time(moments, calendar):
    a, b, c = sorted(moments)
    ab = working_time_between(a, b, calendar)
    assert timedelta(0) <= ab <= b - a
    assert working_time_between(a, c, calendar) == ab + working_time_between(b, c, calendar)
    assert working_time_between(c, a, calendar) == timedelta(0)


@settings(max_examples=200, deadline=None)
@given(start=moments, span=hours)
def test_more_hours_are_never_due_earlier(start, span):
    assert add_working_time(start, span, OFFICE) <= add_working_time(
        start, span + timedelta(minutes=15), OFFICE
    )
