"""Data for the live integration tests, created inside the production processes' database:
`python -c "import django; django.setup(); from tests.integration.live_data import ...; ..."`."""

from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.models import Group
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from accounts.models import Department, User
from approvals import workflow
from approvals.models import ApprovalStep, StepState
from intake import services
from intake.models import Category
from notifications.services import notify
from vendors.models import Vendor


def overdue_requests(count: int, *, hours_overdue: int = 2) -> None:
    """`count` submitted requests whose open steps passed their 48-hour SLA `hours_overdue` ago."""
    department = Department.objects.create(name="Live", cost_centre="CC-LIVE")
    requester = User.objects.create(username="live-requester", department=department)
    for username, group in (("live-it", "it_reviewers"), ("live-procurement", "procurement")):
        User.objects.create(username=username, email=f"{username}@tandem.example").groups.add(
            Group.objects.get(name=group)
        )
    vendor = Vendor.objects.create(name="Live Vendor", status="approved")
    category = Category.objects.get(slug="saas-subscription")
    for n in range(count):
        draft = services.create_request(
            by=requester,
            fields={
                "title": f"Live request {n}",
                "description": "d",
                "business_justification": "j",
                "category": category,
                "vendor": vendor,
                "needed_by": timezone.localdate() + timedelta(days=30),
                "data_classification": "internal",
                "handles_personal_data": False,
            },
            line_items=[{"description": "x", "quantity": Decimal(1), "unit_price": Decimal(10)}],
        )
        workflow.submit_request(draft, by=requester)
    opened = timezone.now() - timedelta(hours=48 + hours_overdue)
    ApprovalStep.objects.filter(state=StepState.OPEN).update(
        opened_at=opened,
        due_at=opened + timedelta(hours=48),
        escalate_at=opened + timedelta(hours=96),
        next_alert_at=opened + timedelta(hours=48),
    )


def sweep_every_second() -> None:
    every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period="seconds")
    PeriodicTask.objects.filter(task="approvals.tasks.sweep_reminders").update(
        interval=every_second
    )
    PeriodicTask.objects.exclude(task="approvals.tasks.sweep_reminders").update(enabled=False)


def pending_emails(count: int) -> None:
    """`count` e-mail notifications waiting in the outbox (their delivery tasks are queued)."""
    user = User.objects.create(username="live-reader", email="reader@tandem.example")
    for n in range(count):
        notify(
            [user],
            subject=f"Message {n}",
            lines=["x"],
            action="Open",
            url="/",
            dedupe_key=f"live:{n}",
            kind="outcomes",
        )
