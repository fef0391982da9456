"""Working-hours calendars (issue 16, item 4): the admin edits them with plain fields and
checkboxes, closures and groups on the same page; the default calendar of the settings serves
groups without one; people without a zone of their own see their team calendar's."""

from datetime import date, time

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.utils import timezone

from accounts import roles
from calendars.middleware import ViewerTimezoneMiddleware
from calendars.models import Closure, GroupCalendar, WorkCalendar
from calendars.selectors import team_time_zone, working_hours_by_group
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ADD = "/admin/calendars/workcalendar/add/"


def group(name):
    return Group.objects.get(name=name)


def calendar_data(**overrides):
    data = {
        "name": "Munich office",
        "time_zone": "Europe/Berlin",
        "monday": "on",
        "tuesday": "on",
        "wednesday": "on",
        "thursday": "on",
        "friday": "on",
        "work_starts": "08:30",
        "work_ends": "16:30",
        "holiday_country": "DE",
        "holiday_region": "by",
        "groupcalendar_set-TOTAL_FORMS": "1",
        "groupcalendar_set-INITIAL_FORMS": "0",
        "groupcalendar_set-0-group": group(roles.IT_REVIEWERS).pk,
        "closures-TOTAL_FORMS": "1",
        "closures-INITIAL_FORMS": "0",
        "closures-0-name": "Christmas closure",
        "closures-0-first_day": "2026-12-28",
        "closures-0-last_day": "2026-12-31",
    }
    data.update(overrides)
    return data


def test_the_admin_form_has_checkboxes_and_lists_not_json(client, admin_user):
    client.force_login(admin_user)
    page = client.get(ADD).content.decode()
    assert 'type="checkbox" name="saturday"' in page
    assert '<select name="time_zone"' in page
    assert '<option value="DE">Germany</option>' in page
    assert 'name="closures-0-first_day"' in page
    assert 'name="groupcalendar_set-0-group"' in page
    assert "JSON" not in page


def test_an_admin_adds_a_calendar_with_a_closure_and_a_group(client, admin_user):
    client.force_login(admin_user)
    response = client.post(ADD, calendar_data())
    assert response.status_code == 302, response.content.decode()[:2000]
    calendar = WorkCalendar.objects.get(name="Munich office")
    assert (calendar.saturday, calendar.holiday_region) == (False, "BY")
    assert list(calendar.closures.values_list("first_day", "last_day")) == [
        (date(2026, 12, 28), date(2026, 12, 31))
    ]
    hours = working_hours_by_group([group(roles.IT_REVIEWERS).pk])[group(roles.IT_REVIEWERS).pk]
    assert hours.start == time(8, 30)
    assert not hours.is_working_day(date(2026, 12, 29))  # the closure
    assert not hours.is_working_day(date(2026, 1, 6))  # Epiphany: Bavaria, not Berlin
    assert hours.is_working_day(date(2026, 12, 2))
    listing = client.get("/admin/calendars/workcalendar/").content.decode()
    assert "Mon, Tue, Wed, Thu, Fri" in listing
    assert "Germany (BY)" in listing


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"holiday_region": "XX"}, "holiday_region", "Not a region of Germany"),
        ({"work_ends": "08:00"}, "work_ends", "Work ends after it starts"),
        (
            {f: "" for f in ("monday", "tuesday", "wednesday", "thursday", "friday")},
            "monday",
            "Tick at least one working day",
        ),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "Select a valid choice"),
        ({"closures-0-last_day": "2026-12-01"}, None, "The last day is on or after"),
    ],
)
def test_the_admin_refuses_what_the_clock_cannot_use(client, admin_user, overrides, field, message):
    client.force_login(admin_user)
    data = calendar_data(**overrides)
    data = {k: v for k, v in data.items() if v != ""}
    response = client.post(ADD, data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not WorkCalendar.objects.exists()


def test_a_group_has_one_calendar():
    first = WorkCalendar.objects.create(name="Berlin")
    second = WorkCalendar.objects.create(name="London", time_zone="Europe/London")
    GroupCalendar.objects.create(group=group(roles.CIO), calendar=first)
    with pytest.raises(ValidationError):
        GroupCalendar(group=group(roles.CIO), calendar=second).validate_unique()


def test_groups_without_a_calendar_use_the_default_of_the_settings(settings):
    settings.TANDEM_WORKING_HOURS = {
        "TIME_ZONE": "Europe/London",
        "WEEKDAYS": [0, 1, 2, 3],
        "STARTS": "10:00",
        "ENDS": "16:00",
        "HOLIDAY_COUNTRY": "GB",
        "HOLIDAY_REGION": "SCT",
    }
    hours = working_hours_by_group([group(roles.CPO).pk, None])
    for calendar in hours.values():
        assert calendar.zone.key == "Europe/London"
        assert not calendar.is_working_day(date(2026, 12, 4))  # a Friday
        assert not calendar.is_working_day(date(2026, 11, 30))  # St Andrew's Day in Scotland


def test_calendars_for_many_groups_take_three_queries(django_assert_num_queries):
    calendar = WorkCalendar.objects.create(name="Berlin", time_zone="Europe/Berlin")
    Closure.objects.create(
        calendar=calendar, name="Move", first_day=date(2026, 1, 2), last_day=date(2026, 1, 2)
    )
    ids = [g.pk for g in Group.objects.all()]
    for pk in ids:
        GroupCalendar.objects.create(group_id=pk, calendar=calendar)
    with django_assert_num_queries(3):  # links, calendars, their closures
        hours = working_hours_by_group(ids)
    assert all(not hours[pk].is_working_day(date(2026, 1, 2)) for pk in ids)


def zone_seen_by(user, rf) -> str:
    request = rf.get("/")
    request.user = user
    middleware = ViewerTimezoneMiddleware(
        lambda request: HttpResponse(timezone.get_current_timezone_name())
    )
    try:
        return middleware(request).content.decode()
    finally:
        timezone.deactivate()


def test_a_person_without_a_zone_sees_times_in_their_team_calendars_zone(rf, settings):
    calendar = WorkCalendar.objects.create(name="Tokyo office", time_zone="Asia/Tokyo")
    GroupCalendar.objects.create(group=group(roles.IT_REVIEWERS), calendar=calendar)
    reviewer = UserFactory(roles=[roles.IT_REVIEWERS], time_zone="")
    assert team_time_zone(reviewer) == "Asia/Tokyo"
    assert zone_seen_by(reviewer, rf) == "Asia/Tokyo"
    # Their own preference wins; without a team calendar, the default calendar's zone.
    chicago = UserFactory(roles=[roles.IT_REVIEWERS], time_zone="America/Chicago")
    assert zone_seen_by(chicago, rf) == "America/Chicago"
    settings.TANDEM_WORKING_HOURS = {**settings.TANDEM_WORKING_HOURS, "TIME_ZONE": "Europe/Paris"}
    assert zone_seen_by(UserFactory(roles=[roles.CPO], time_zone=""), rf) == "Europe/Paris"


def test_a_person_chooses_their_time_zone_or_their_teams(client):
    person = UserFactory(roles=[roles.IT_REVIEWERS], time_zone="UTC")
    client.force_login(person)
    page = client.get("/accounts/time-zone/").content.decode()
    assert "The time zone of my team&#x27;s working hours" in page
    response = client.post("/accounts/time-zone/", {"time_zone": "Asia/Tokyo"}, follow=True)
    assert "Times now show in Asia/Tokyo." in response.content.decode()
    person.refresh_from_db()
    assert person.time_zone == "Asia/Tokyo"
    client.post("/accounts/time-zone/", {"time_zone": ""})
    person.refresh_from_db()
    assert person.time_zone == ""
    refused = client.post("/accounts/time-zone/", {"time_zone": "Mars/Olympus"})
    assert refused.status_code == 200
    assert "Select a valid choice" in refused.content.decode()
    person.refresh_from_db()
    assert person.time_zone == ""


def test_the_admin_says_in_plain_words_who_works_by_a_calendar(client, admin_user):
    calendar = WorkCalendar.objects.create(name="Berlin office", time_zone="Europe/Berlin")
    GroupCalendar.objects.create(group=group(roles.IT_REVIEWERS), calendar=calendar)
    client.force_login(admin_user)
    listing = client.get("/admin/calendars/workcalendar/").content.decode()
    assert "IT review works in the Berlin office&#x27;s hours" in listing
    page = client.get(f"/admin/calendars/workcalendar/{calendar.pk}/change/").content.decode()
    assert "IT review works in the Berlin office&#x27;s hours" in page
    assert f'<option value="{group(roles.IT_REVIEWERS).pk}" selected>IT review</option>' in page
    assert roles.IT_REVIEWERS not in page.split('name="groupcalendar_set-0-group"')[1][:2000]
