"""The daily digest of pending items for the CIO and the CPO (SPEC §4)."""

from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.utils import timezone

from accounts import roles
from core import formats
from notifications.models import Kind
from notifications.services import notify

from .models import ApprovalStep, StepState


def pending_figures(now) -> dict:
    return ApprovalStep.objects.filter(state=StepState.OPEN).aggregate(
        open=Count("id"),
        overdue=Count("id", filter=Q(due_at__lt=now)),
        escalated=Count("id", filter=Q(escalated_at__isnull=False)),
        vendor_reviews=Count("id", filter=Q(vendor__isnull=False)),
    )


def send_daily_digest(now=None) -> int:
    """One digest per leader per day, however often the task runs."""
    now = now or timezone.now()
    figures = pending_figures(now)
    leaders = (
        get_user_model()
        .objects.filter(groups__name__in=[roles.CIO, roles.CPO], is_active=True)
        .distinct()
    )
    today = timezone.localdate(now)
    return notify(
        leaders,
        subject=f"Tandem digest for {formats.day(today)}: {figures['open']} steps open",
        lines=[
            f"Open approval steps: {figures['open']}, of which {figures['overdue']} are past "
            f"their SLA and {figures['escalated']} escalated.",
            f"Vendor reviews under way: {figures['vendor_reviews']}.",
        ],
        action="See the team view",
        url="/approvals/",
        dedupe_key=f"digest:{today:%Y-%m-%d}",
        kind=Kind.SERVICE,  # already a daily summary
    )
