"""Baseline review (issue 13): the default IT and procurement review rules become baseline rules,
added to every routed request while active and while their conditions hold, beside the steps of
the matching rules (before, they were added only when no rule covered their side)."""

from django.db import migrations, models


def to_baseline(apps, schema_editor):
    ApprovalRule = apps.get_model("approvals", "ApprovalRule")
    ApprovalRule.objects.filter(kind="default").update(kind="baseline")


def to_default(apps, schema_editor):
    ApprovalRule = apps.get_model("approvals", "ApprovalRule")
    ApprovalRule.objects.filter(kind="baseline").update(kind="default")


class Migration(migrations.Migration):
    dependencies = [("approvals", "0008_consultations")]

    operations = [
        migrations.AlterField(
            model_name="approvalrule",
            name="kind",
            field=models.CharField(
                choices=[
                    ("route", "Adds a step when it matches"),
                    (
                        "baseline",
                        "Baseline review: added to every routed request while its conditions hold",
                    ),
                    ("auto_approve", "Approves at once when it matches"),
                    ("vendor_review", "Vendor review: the vendor must be approved first"),
                ],
                default="route",
                max_length=20,
            ),
        ),
        migrations.RunPython(to_baseline, to_default),
    ]
