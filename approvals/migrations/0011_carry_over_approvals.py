"""Resubmit without starting over (issue 13): a snapshot of each round's facts, and the
approval an approved step carries over from an earlier round."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("approvals", "0010_work_after_approval"),
        ("intake", "0006_purchaserequest_requests_newest_first"),
        ("vendors", "0006_vendor_proposed_by"),
    ]

    operations = [
        migrations.AddField(
            model_name="approvalstep",
            name="carried_from",
            field=models.ForeignKey(
                blank=True,
                help_text="The approval of an earlier round this step carries over.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="approvals.approvalstep",
            ),
        ),
        migrations.CreateModel(
            name="RoundSnapshot",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("round", models.PositiveSmallIntegerField()),
                ("taken_at", models.DateTimeField(auto_now_add=True)),
                (
                    "total_cost",
                    models.DecimalField(blank=True, decimal_places=2, max_digits=14, null=True),
                ),
                ("currency", models.CharField(max_length=3)),
                (
                    "total_cost_base",
                    models.DecimalField(blank=True, decimal_places=2, max_digits=14, null=True),
                ),
                ("proposed_vendor_name", models.CharField(blank=True, max_length=200)),
                ("data_classification", models.CharField(blank=True, max_length=20)),
                ("handles_personal_data", models.BooleanField(blank=True, null=True)),
                (
                    "category",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="intake.category",
                    ),
                ),
                (
                    "request",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="round_snapshots",
                        to="intake.purchaserequest",
                    ),
                ),
                (
                    "vendor",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="vendors.vendor",
                    ),
                ),
            ],
            options={
                "ordering": ["request", "round"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("request", "round"), name="one_snapshot_per_round"
                    )
                ],
            },
        ),
    ]
