"""The old contract renewal notice (vendors.tasks.contract_renewal_notices) told a contract's
owner a second time, after the renewal schedule had, linking to the vendor page even once the
renewal was decided. The renewal schedule is now the one notice: its stored periodic task goes,
whatever an admin renamed it to."""

from django.db import migrations

OLD_TASK = "vendors.tasks.contract_renewal_notices"


def remove_old_task(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(task=OLD_TASK).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("budgets", "0002_renewal_schedule"),
        ("notifications", "0002_schedules"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    # Not put back on the way down: the task it ran no longer exists.
    operations = [migrations.RunPython(remove_old_task, migrations.RunPython.noop)]
