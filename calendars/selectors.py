"""Reads of the working-hours calendars that approvals and pages share."""

from core.working_hours import WorkingHours

from .models import GroupCalendar, WorkCalendar, default_working_hours


def working_hours_by_group(group_ids) -> dict[int | None, WorkingHours]:
    """Each group's working hours (the default calendar for a group without one, and for
    None), in three queries whatever the number of groups."""
    group_ids = {g for g in group_ids if g is not None}
    default = default_working_hours()
    if not group_ids:
        return {None: default}
    links = dict(
        GroupCalendar.objects.filter(group_id__in=group_ids).values_list("group_id", "calendar_id")
    )
    calendars = {
        c.pk: c.working_hours
        for c in WorkCalendar.objects.filter(pk__in=set(links.values())).prefetch_related(
            "closures"
        )
    }
    found = {group: calendars[links[group]] for group in group_ids if group in links}
    return {None: default, **{g: found.get(g, default) for g in group_ids}}


def working_hours_of(group_id) -> WorkingHours:
    return working_hours_by_group([group_id])[group_id]


def team_time_zone(user) -> str | None:
    """The time zone of the working-hours calendar of one of the user's groups (the first by
    calendar name), or None. One query."""
    return (
        WorkCalendar.objects.filter(groupcalendar__group__user=user)
        .order_by("name")
        .values_list("time_zone", flat=True)
        .first()
    )
