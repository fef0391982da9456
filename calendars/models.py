"""Working-hours calendars of the reviewer groups (SPEC §8a): the time zone, working days and
hours, public holidays of a country (and region) from the `holidays` package, and closures an
admin adds. The clock of SLAs, reminders and escalations counts only their working time
(core.working_hours); groups without a calendar use the default of the settings."""

import zoneinfo
from datetime import date, time
from functools import cached_property, lru_cache

import holidays
from babel import Locale
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from core.validation import time_zones
from core.working_hours import WorkingHours

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _country_choices():
    names = Locale("en").territories
    codes = {alpha2 for _, alpha2, *_ in holidays.registry.COUNTRIES.values()}
    return sorted(((code, names.get(code, code)) for code in codes), key=lambda c: c[1])


COUNTRY_CHOICES = _country_choices()
COUNTRY_NAMES = dict(COUNTRY_CHOICES)


def subdivisions_of(country: str) -> tuple[str, ...]:
    return tuple(holidays.list_supported_countries().get(country, ()))


class WorkCalendar(models.Model):
    """When a reviewer group works. Public holidays come from the maintained `holidays` package
    for the country (and region, e.g. BY for Bavaria); closures add the days the company is
    closed besides."""

    name = models.CharField(max_length=120, unique=True)
    # The choices live in the admin form (calendars.forms): zone and country lists change with
    # tzdata and `holidays` releases, which must not make migrations.
    time_zone = models.CharField(max_length=64, default="UTC")
    monday = models.BooleanField(default=True)
    tuesday = models.BooleanField(default=True)
    wednesday = models.BooleanField(default=True)
    thursday = models.BooleanField(default=True)
    friday = models.BooleanField(default=True)
    saturday = models.BooleanField(default=False)
    sunday = models.BooleanField(default=False)
    work_starts = models.TimeField(default=time(9), help_text="Local time, e.g. 09:00.")
    work_ends = models.TimeField(
        default=time(17), help_text="Local time, e.g. 17:00; 00:00 means midnight."
    )
    holiday_country = models.CharField(
        "public holidays of",
        max_length=2,
        blank=True,
        help_text="Empty: no public holidays, only the closures below.",
    )
    holiday_region = models.CharField(
        "region",
        max_length=10,
        blank=True,
        help_text="The state or region code whose holidays apply too, e.g. BY (Bavaria) in "
        "Germany or CA in the United States; empty: the national holidays only.",
    )
    groups = models.ManyToManyField(Group, through="GroupCalendar", blank=True, related_name="+")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(work_ends__gt=F("work_starts")) | Q(work_ends=time(0)),
                name="work_ends_after_it_starts",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        if not any(getattr(self, day) for day in WEEKDAYS):
            errors["monday"] = "Tick at least one working day."
        if (
            self.work_starts is not None
            and self.work_ends is not None
            and self.work_ends != time(0)
            and self.work_ends <= self.work_starts
        ):
            errors["work_ends"] = "Work ends after it starts (00:00 means midnight)."
        if self.time_zone not in time_zones():
            errors["time_zone"] = "Choose a time zone from the list."
        if self.holiday_country and self.holiday_country not in COUNTRY_NAMES:
            errors["holiday_country"] = "Choose a country from the list."
        elif self.holiday_region:
            regions = subdivisions_of(self.holiday_country)
            if not self.holiday_country:
                errors["holiday_region"] = "Choose the country of the region first."
            elif self.holiday_region.upper() not in regions:
                errors["holiday_region"] = (
                    f"Not a region of {self.country_name} with its own "
                    f"holidays. Known regions: {', '.join(regions) or 'none'}."
                )
            else:
                self.holiday_region = self.holiday_region.upper()
        if errors:
            raise ValidationError(errors)

    @property
    def country_name(self) -> str:
        return COUNTRY_NAMES.get(self.holiday_country, self.holiday_country)

    @cached_property
    def working_hours(self) -> WorkingHours:
        """This calendar as core.working_hours reads it. Closures are read once (prefetch
        `closures` in lists)."""
        closures = [(c.first_day, c.last_day) for c in self.closures.all()] if self.pk else []
        return working_hours(
            time_zone=self.time_zone,
            weekdays=[i for i, day in enumerate(WEEKDAYS) if getattr(self, day)],
            starts=self.work_starts,
            ends=self.work_ends,
            country=self.holiday_country,
            region=self.holiday_region,
            closures=closures,
        )


def working_hours(
    *, time_zone, weekdays, starts, ends, country="", region="", closures=()
) -> WorkingHours:
    public = holidays.country_holidays(country, subdiv=region or None) if country else frozenset()
    closures = list(closures)

    def is_closed(day: date) -> bool:
        return day in public or any(first <= day <= last for first, last in closures)

    return WorkingHours(
        zone=zoneinfo.ZoneInfo(time_zone),
        weekdays=frozenset(weekdays),
        start=starts,
        end=ends,
        is_closed=is_closed,
    )


class GroupCalendar(models.Model):
    """Which calendar a reviewer group works by: one per group."""

    group = models.OneToOneField(Group, on_delete=models.CASCADE, related_name="work_calendar")
    calendar = models.ForeignKey(WorkCalendar, on_delete=models.CASCADE)

    class Meta:
        verbose_name = "reviewer group on this calendar"
        verbose_name_plural = "reviewer groups on this calendar"

    def __str__(self):
        return f"{self.group} works by {self.calendar}"


class Closure(models.Model):
    """Days the company is closed besides the public holidays (a site closure, the days
    between Christmas and New Year): no working time passes on them."""

    calendar = models.ForeignKey(WorkCalendar, on_delete=models.CASCADE, related_name="closures")
    name = models.CharField(max_length=120, help_text="e.g. Christmas closure")
    first_day = models.DateField()
    last_day = models.DateField(help_text="The same as the first day for a single day.")

    class Meta:
        ordering = ["first_day"]
        constraints = [
            models.CheckConstraint(
                condition=Q(last_day__gte=F("first_day")), name="closure_ends_after_it_starts"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.first_day} to {self.last_day})"

    def clean(self):
        if self.first_day and self.last_day and self.last_day < self.first_day:
            raise ValidationError({"last_day": "The last day is on or after the first day."})


def default_working_hours() -> WorkingHours:
    """The calendar of groups without one: TANDEM_WORKING_HOURS in the settings."""
    config = settings.TANDEM_WORKING_HOURS
    return _default(
        config["TIME_ZONE"],
        tuple(config["WEEKDAYS"]),
        config["STARTS"],
        config["ENDS"],
        config.get("HOLIDAY_COUNTRY", ""),
        config.get("HOLIDAY_REGION", ""),
    )


@lru_cache(maxsize=8)
def _default(time_zone, weekdays, starts, ends, country, region) -> WorkingHours:
    return working_hours(
        time_zone=time_zone,
        weekdays=weekdays,
        starts=time.fromisoformat(starts),
        ends=time.fromisoformat(ends),
        country=country,
        region=region,
    )
