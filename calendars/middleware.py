"""The viewer's time zone: their own preference, else the zone of their reviewer group's
working-hours calendar, else the default calendar's (SPEC §9: shown in the user's time zone)."""

from core.middleware import UserTimezoneMiddleware

from .models import default_working_hours
from .selectors import team_time_zone


class ViewerTimezoneMiddleware(UserTimezoneMiddleware):
    def fallback_zone(self, user) -> str:
        # One query, only for people who left their own zone empty.
        zone = team_time_zone(user)
        return zone or default_working_hours().zone.key
