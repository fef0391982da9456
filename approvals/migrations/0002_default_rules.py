"""The default IT and procurement steps that make every routed request a joint sign-off
(SPEC §3). Admins change their SLA, escalation and reviewers in the admin."""

from django.db import migrations

DEFAULTS = [
    ("Default IT review", "it", "it_reviewers", "cio"),
    ("Default procurement review", "procurement", "procurement", "cpo"),
]


def create(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    ApprovalRule = apps.get_model("approvals", "ApprovalRule")
    for name, side, reviewers, escalation in DEFAULTS:
        ApprovalRule.objects.get_or_create(
            name=name,
            defaults={
                "kind": "baseline",  # "default" before the baseline review rules
                "side": side,
                "stage": 1,
                "reviewer_group": Group.objects.get(name=reviewers),
                "escalation_group": Group.objects.get(name=escalation),
                "sla_hours": 48,
                "repeat_every_hours": 24,
                "escalate_after_hours": 96,
            },
        )


def remove(apps, schema_editor):
    apps.get_model("approvals", "ApprovalRule").objects.filter(
        name__in=[name for name, *_ in DEFAULTS], steps__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("approvals", "0001_initial"), ("accounts", "0002_role_groups")]

    operations = [migrations.RunPython(create, remove)]
