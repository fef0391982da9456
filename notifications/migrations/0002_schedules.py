"""Tandem's periodic tasks, in the database (django-celery-beat): admins change their
schedules in the admin (Periodic tasks), and beat picks the change up without a restart."""

import json

from django.db import migrations
from django.utils import timezone

INTERVALS = [
    ("Tandem: reminder sweep", "approvals.tasks.sweep_reminders", 5, "minutes"),
    ("Tandem: deliver pending notifications", "notifications.tasks.deliver_pending", 1, "minutes"),
]
DAILY = [
    ("Tandem: certificate expiry notices", "vendors.tasks.certificate_expiry_notices", "6", "0"),
    ("Tandem: contract renewal notices", "vendors.tasks.contract_renewal_notices", "6", "5"),
    ("Tandem: daily digest for CIO and CPO", "approvals.tasks.daily_digest", "7", "0"),
]


def create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, every, period in INTERVALS:
        interval, _ = IntervalSchedule.objects.get_or_create(every=every, period=period)
        # A start time makes beat run the task as soon as it starts, then every interval.
        PeriodicTask.objects.get_or_create(
            name=name,
            defaults={
                "task": task,
                "interval": interval,
                "args": json.dumps([]),
                "start_time": timezone.now(),
            },
        )
    for name, task, hour, minute in DAILY:
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=minute,
            hour=hour,
            day_of_week="*",
            day_of_month="*",
            month_of_year="*",
            timezone="UTC",
        )
        PeriodicTask.objects.get_or_create(
            name=name, defaults={"task": task, "crontab": crontab, "args": json.dumps([])}
        )


def remove(apps, schema_editor):
    names = [name for name, *_ in INTERVALS + DAILY]
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=names).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
