"""Admin of the working-hours calendars: plain fields and checkboxes, closures and the groups
that work by a calendar edited on its page."""

from django import forms
from django.contrib import admin

from core.validation import time_zone_choices

from .models import (
    COUNTRY_CHOICES,
    WEEKDAYS,
    Closure,
    GroupCalendar,
    WorkCalendar,
)


class ClosureInline(admin.StackedInline):
    model = Closure
    extra = 1
    fields = ["name", "first_day", "last_day"]


class GroupCalendarInline(admin.StackedInline):
    model = GroupCalendar
    extra = 1
    fields = ["group"]


class WorkCalendarForm(forms.ModelForm):
    time_zone = forms.ChoiceField(choices=time_zone_choices, initial="UTC")
    holiday_country = forms.ChoiceField(
        label="Public holidays of",
        choices=[("", "No public holidays")] + COUNTRY_CHOICES,
        required=False,
        help_text="Empty: no public holidays, only the closures below.",
    )

    class Meta:
        model = WorkCalendar
        fields = [
            "name",
            "time_zone",
            *WEEKDAYS,
            "work_starts",
            "work_ends",
            "holiday_country",
            "holiday_region",
        ]


@admin.register(WorkCalendar)
class WorkCalendarAdmin(admin.ModelAdmin):
    form = WorkCalendarForm
    list_display = ["name", "time_zone", "working_days", "work_starts", "work_ends", "holidays"]
    search_fields = ["name"]
    fieldsets = [
        (None, {"fields": ["name", "time_zone"]}),
        (
            "Working days",
            {
                "fields": [
                    ("monday", "tuesday", "wednesday", "thursday", "friday"),
                    ("saturday", "sunday"),
                ]
            },
        ),
        ("Working hours", {"fields": [("work_starts", "work_ends")]}),
        ("Public holidays", {"fields": ["holiday_country", "holiday_region"]}),
    ]
    inlines = [GroupCalendarInline, ClosureInline]

    @admin.display(description="Working days")
    def working_days(self, calendar):
        return ", ".join(day[:3].title() for day in WEEKDAYS if getattr(calendar, day))

    @admin.display(description="Holidays of")
    def holidays(self, calendar):
        if not calendar.holiday_country:
            return "—"
        country = calendar.country_name
        return f"{country} ({calendar.holiday_region})" if calendar.holiday_region else country
