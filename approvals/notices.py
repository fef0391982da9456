"""Who is told what when a review moves (SPEC §4): reviewers when their step opens, the
requester when their request is decided. Nobody is told before their stage is open."""

import zoneinfo
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.utils import timezone

from calendars import selectors as calendar_selectors
from core import formats
from notifications.services import notify

from .models import ApprovalStep
from .subjects import subject_of


def reviewers_of(step: ApprovalStep):
    if step.user_id:
        return [step.user]
    return list(get_user_model().objects.filter(groups=step.group_id, is_active=True))


def describe(step: ApprovalStep) -> str:
    return subject_of(step).description


def notify_in_their_zones(
    recipients, step: ApprovalStep, message: Callable[[], dict], *, team_zone=None
) -> None:
    """Notifies each recipient with the times of `message` in their own time zone: their
    preference, else the zone of the step's working-hours calendar. `message` builds notify's
    arguments under the recipient's zone; the dedupe key stays one per cause and person."""
    team_zone = team_zone or calendar_selectors.working_hours_of(step.group_id).zone
    by_zone: dict = {}
    for user in recipients:
        by_zone.setdefault(zone_of(user.time_zone) or team_zone, []).append(user)
    for zone, users in by_zone.items():
        with timezone.override(zone):
            notify(users, **message())


def zone_of(name: str):
    try:
        return zoneinfo.ZoneInfo(name) if name else None
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def step_opened(step: ApprovalStep) -> None:
    notify_in_their_zones(
        reviewers_of(step),
        step,
        lambda: {
            "subject": f"For your decision: {step.subject_label}",
            "lines": [
                f"The {step.get_side_display()} step (stage {step.stage}) of {describe(step)} "
                f"is open for {step.reviewer_label}.",
                f"It is due {formats.due(step.due_at, dated=True)}.",
            ],
            "action": "Review it",
            "url": f"{step.subject.get_absolute_url()}#steps",
            "dedupe_key": f"opened:{step.pk}",
        },
    )


def request_decided(purchase_request, *, outcome: str, round: int, comment: str = "") -> None:
    lines = [f"Your request {purchase_request.number} “{purchase_request.title}” was {outcome}."]
    if comment:
        lines.append(f"Comment: {comment}")
    notify(
        [purchase_request.requester],
        subject=f"{purchase_request.number} {outcome}",
        lines=lines,
        action="Open the request",
        url=purchase_request.get_absolute_url(),
        dedupe_key=f"decided:{purchase_request.pk}:{round}:{purchase_request.state}",
    )
