"""Admin of the working-hours calendars: plain fields and checkboxes, closures and the groups
that work by a calendar edited on its page."""

from django import forms
from django.contrib import admin
from django.contrib.auth.models import Group

from accounts.roles import group_label
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


def works_in(group, calendar) -> str:
    """What a group's calendar means, in plain words: "IT review works in the Berlin office's
    hours"."""
    return f"{group_label(group.name)} works in the {calendar.name}'s hours"


class GroupField(forms.ModelChoiceField):
    """Groups by their display names ("IT review"), never their codes."""

    def label_from_instance(self, group):
        return group_label(group.name)


class GroupCalendarForm(forms.ModelForm):
    group = GroupField(
        queryset=Group.objects.order_by("name"),
        label="Group",
        # A tabular inline shows its label only in the column's heading: the select names itself.
        widget=forms.Select(attrs={"aria-label": "Group working in this calendar's hours"}),
        help_text="Its steps are due, reminded and escalated in this calendar's working hours.",
    )

    class Meta:
        model = GroupCalendar
        fields = ["group"]


class GroupCalendarInline(admin.TabularInline):
    model = GroupCalendar
    form = GroupCalendarForm
    extra = 1
    fields = ["group", "meaning"]
    readonly_fields = ["meaning"]

    @admin.display(description="Meaning")
    def meaning(self, link):
        return works_in(link.group, link.calendar) if link.pk else "—"


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
    list_display = [
        "name",
        "time_zone",
        "working_days",
        "work_starts",
        "work_ends",
        "holidays",
        "who_works_by_it",
    ]
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

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groupcalendar_set__group")

    @admin.display(description="Who works in its hours")
    def who_works_by_it(self, calendar):
        links = calendar.groupcalendar_set.all()
        return "; ".join(works_in(link.group, calendar) for link in links) or "Nobody yet"

    @admin.display(description="Working days")
    def working_days(self, calendar):
        return ", ".join(day[:3].title() for day in WEEKDAYS if getattr(calendar, day))

    @admin.display(description="Holidays of")
    def holidays(self, calendar):
        if not calendar.holiday_country:
            return "—"
        country = calendar.country_name
        return f"{country} ({calendar.holiday_region})" if calendar.holiday_region else country
