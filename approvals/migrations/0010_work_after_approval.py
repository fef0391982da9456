"""Work after approval (issue 13): order and receipt items ride on approval steps of their own
kind, and one row of process settings holds their due times (admin-editable)."""

import django.core.validators
import django.db.models.deletion
import django_fsm
from decimal import Decimal
from django.conf import settings
from django.db import migrations, models


def create_settings(apps, schema_editor):
    apps.get_model("approvals", "ProcessSettings").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [
        ("approvals", "0009_baseline_review_rules"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("intake", "0006_purchaserequest_requests_newest_first"),
        ("vendors", "0006_vendor_proposed_by"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ProcessSettings",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "order_sla_hours",
                    models.PositiveIntegerField(
                        default=72,
                        help_text="Procurement places the order of an approved request within this time.",
                        verbose_name="order due after (hours)",
                    ),
                ),
                (
                    "order_repeat_every_hours",
                    models.PositiveIntegerField(
                        default=24,
                        help_text="0: remind once.",
                        verbose_name="repeat the order reminder every (hours)",
                    ),
                ),
                (
                    "order_escalate_after_hours",
                    models.PositiveIntegerField(
                        default=120, verbose_name="escalate an order not placed after (hours)"
                    ),
                ),
                (
                    "receipt_sla_hours",
                    models.PositiveIntegerField(
                        default=336,
                        help_text="The requester confirms receipt within this time after the order.",
                        verbose_name="receipt confirmation due after (hours)",
                    ),
                ),
                (
                    "receipt_repeat_every_hours",
                    models.PositiveIntegerField(
                        default=168,
                        help_text="0: remind once.",
                        verbose_name="repeat the receipt reminder every (hours)",
                    ),
                ),
                (
                    "carry_over_approvals",
                    models.BooleanField(
                        default=True,
                        help_text="When a request comes back without a material change, the approvals of the sides that did not ask for changes carry over into the new round.",
                        verbose_name="carry approvals over on resubmit",
                    ),
                ),
                (
                    "cost_tolerance_percent",
                    models.DecimalField(
                        decimal_places=2,
                        default=Decimal("10.00"),
                        help_text="A total cost up by more than this share of the submitted cost is a material change; a cost up by exactly this much, or down, is not.",
                        max_digits=5,
                        validators=[django.core.validators.MinValueValidator(Decimal("0"))],
                        verbose_name="cost tolerance (%)",
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={
                "verbose_name": "process settings",
                "verbose_name_plural": "process settings",
            },
        ),
        migrations.RemoveConstraint(
            model_name="approvalstep",
            name="one_step_per_group_and_stage",
        ),
        migrations.RemoveConstraint(
            model_name="approvalstep",
            name="one_step_per_user_and_stage",
        ),
        migrations.AddField(
            model_name="approvalstep",
            name="kind",
            field=models.CharField(
                choices=[
                    ("review", "Review"),
                    ("order", "Place the order"),
                    ("receipt", "Confirm receipt"),
                ],
                default="review",
                max_length=10,
            ),
        ),
        migrations.AlterField(
            model_name="approvalstep",
            name="state",
            field=django_fsm.FSMField(
                choices=[
                    ("waiting", "Waiting for an earlier stage"),
                    ("open", "Open"),
                    ("approved", "Approved"),
                    ("rejected", "Rejected"),
                    ("changes_requested", "Changes requested"),
                    ("superseded", "Superseded"),
                    ("done", "Done"),
                ],
                default="waiting",
                max_length=20,
                protected=True,
            ),
        ),
        migrations.AddConstraint(
            model_name="approvalstep",
            constraint=models.UniqueConstraint(
                condition=models.Q(("group__isnull", False)),
                fields=("request", "kind", "round", "group", "stage"),
                name="one_step_per_kind_group_and_stage",
            ),
        ),
        migrations.AddConstraint(
            model_name="approvalstep",
            constraint=models.UniqueConstraint(
                condition=models.Q(("user__isnull", False)),
                fields=("request", "kind", "round", "user", "stage"),
                name="one_step_per_kind_user_and_stage",
            ),
        ),
        migrations.AddField(
            model_name="processsettings",
            name="order_escalation_group",
            field=models.ForeignKey(
                blank=True,
                help_text="Who hears of an order not placed in time; empty: the CPO.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="auth.group",
            ),
        ),
        migrations.RunPython(create_settings, migrations.RunPython.noop),
    ]
