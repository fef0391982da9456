"""The operations page for admins: readiness, the sweep, the outbox and the alerts, with a
retry for notifications that gave up. Thin: selectors read, `alerts` writes."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from audit import sealer
from core import heartbeats
from notifications.models import Notification

from . import alerts, health, policies, selectors
from .models import Alert

PART_LABELS = {
    health.DATABASE: "Database",
    health.MIGRATIONS: "Database migrations",
    health.BROKER: "Task queue (Redis)",
}


def overview(request):
    policies.can_operate(request.user).enforce()
    now = timezone.now()
    failing = health.failing_parts()
    beats = heartbeats.all_last()
    sweep = selectors.sweep_status(now, beats)
    oldest = selectors.oldest_undelivered_at()
    unsealed, oldest_unsealed = sealer.unsealed()
    context = {
        "parts": [(label, part not in failing) for part, label in PART_LABELS.items()],
        "sweep": sweep,
        "beat_at": beats.get(heartbeats.BEAT),
        "delivery_at": beats.get(heartbeats.DELIVERY),
        "outbox": selectors.outbox_by_status(),
        "oldest_undelivered": oldest,
        "unsealed": unsealed,
        "oldest_unsealed": oldest_unsealed,
        "sealing_ok": not sealer.late(oldest_unsealed, now),
        "seal_bound": sealer.SEAL_BOUND,
        "queue_length": health.queue_length() if health.BROKER not in failing else None,
        "gave_up": selectors.gave_up_notifications(),
        "nobody_may_decide": selectors.steps_nobody_may_decide(),
        "alerts": Alert.objects.select_related("notification")[:50],
        "now": now,
    }
    return render(request, "operations/overview.html", context)


@require_POST
def retry(request, pk: int):
    policies.can_operate(request.user).enforce()
    notification = get_object_or_404(Notification, pk=pk)
    if alerts.retry_notification(notification):
        messages.success(request, f"“{notification.subject}” is queued for delivery again.")
    else:
        messages.info(request, f"“{notification.subject}” was not waiting for a retry.")
    return redirect("operations:overview")
