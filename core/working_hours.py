"""Working time: the clock of SLAs, reminders and escalations (SPEC §8a). Pure functions over a
`WorkingHours` value; nothing here reads the database.

A working day is a weekday of the calendar that is not closed (a public holiday or a closure);
its working time runs from `start` to `end` wall-clock time in the calendar's zone. Intervals are
measured in real elapsed time, so a working day that contains a daylight-saving change is an
hour shorter or longer, as it is for the people working it. An `end` of 00:00 means midnight at
the end of the day: 00:00 to 00:00 on every day is the clock around the clock."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# add_working_time looks this far ahead for working time before it gives up.
HORIZON_DAYS = 366 * 20
ZERO = timedelta(0)
UTC_ZONE = ZoneInfo("UTC")


def _never_closed(day: date) -> bool:
    return False


@dataclass(frozen=True)
class WorkingHours:
    zone: ZoneInfo
    weekdays: frozenset[int] = frozenset(range(5))  # 0 is Monday
    start: time = time(9)
    end: time = time(17)
    is_closed: Callable[[date], bool] = field(default=_never_closed, compare=False)

    def __post_init__(self):
        if not self.weekdays or not self.weekdays <= set(range(7)):
            raise ValueError("A calendar needs at least one working day (0 Monday to 6 Sunday).")
        if self.end != time(0) and self.end <= self.start:
            raise ValueError("Work must end after it starts (00:00 as the end means midnight).")

    @classmethod
    def around_the_clock(cls, zone: ZoneInfo = UTC_ZONE) -> "WorkingHours":
        return cls(zone=zone, weekdays=frozenset(range(7)), start=time(0), end=time(0))

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.weekdays and not self.is_closed(day)

    def interval(self, day: date) -> tuple[datetime, datetime]:
        """The day's working time as two moments in UTC (whatever the day's kind)."""
        begins = datetime.combine(day, self.start, self.zone)
        if self.end == time(0):
            ends = datetime.combine(day + timedelta(days=1), time(0), self.zone)
        else:
            ends = datetime.combine(day, self.end, self.zone)
        return begins.astimezone(UTC), ends.astimezone(UTC)

    def local_day(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()


def _hours(amount) -> timedelta:
    return amount if isinstance(amount, timedelta) else timedelta(hours=float(amount))


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("Working time is computed on aware datetimes only.")
    return moment.astimezone(UTC)


def add_working_time(start: datetime, hours, calendar: WorkingHours) -> datetime:
    """The moment `hours` of working time after `start` (hours: a number or a timedelta), in UTC.
    Time outside working hours does not count: a step opened Friday 16:00 with 8 hours, on
    Monday to Friday 9 to 17, is due Monday 16:00. Zero hours is `start` itself. Raises
    ValueError when the calendar has no working time within HORIZON_DAYS."""
    cursor = _aware(start)
    remaining = _hours(hours)
    if remaining <= ZERO:
        return cursor
    day = calendar.local_day(cursor) - timedelta(days=1)  # the day before may end after midnight
    for _ in range(HORIZON_DAYS):
        if calendar.is_working_day(day):
            begins, ends = calendar.interval(day)
            begins = max(begins, cursor)
            if begins < ends:
                available = ends - begins
                if remaining <= available:
                    return begins + remaining
                remaining -= available
                cursor = ends
        day += timedelta(days=1)
    raise ValueError(f"No {remaining} of working time within {HORIZON_DAYS} days.")


def working_time_between(a: datetime, b: datetime, calendar: WorkingHours) -> timedelta:
    """How much working time passes from `a` to `b` (zero when `b` is not after `a`)."""
    a, b = _aware(a), _aware(b)
    if b <= a:
        return ZERO
    total = ZERO
    day = calendar.local_day(a) - timedelta(days=1)
    last = calendar.local_day(b)
    while day <= last:
        if calendar.is_working_day(day):
            begins, ends = calendar.interval(day)
            overlap = min(ends, b) - max(begins, a)
            if overlap > ZERO:
                total += overlap
        day += timedelta(days=1)
    return total
