"""Every index of the step table takes each rescheduled step's new next_alert_at (the reminder
sweep): the foreign keys' own indexes go, those of request and vendor served by wider ones,
that of rule by nothing but a rule's deletion; deciders and escalation targets get partial
indexes that open steps do not enter. Only the indexes are dropped: Django's AlterField would
also drop and re-create (re-check) each foreign key."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


INDEXES = [
    ("decided_by_id", "490eaba6"),
    ("decided_for_id", "39f53199"),
    ("escalation_group_id", "6254b361"),
    ("escalation_user_id", "a73f23bd"),
    ("request_id", "e8aa275e"),
    ("rule_id", "fbec1d98"),
    ("vendor_id", "31348de2"),
]
STATE = [
    migrations.AlterField(
        model_name="approvalstep",
        name="decided_by",
        field=models.ForeignKey(
            blank=True,
            db_index=False,
            null=True,
            on_delete=django.db.models.deletion.PROTECT,
            related_name="+",
            to=settings.AUTH_USER_MODEL,
        ),
    ),
    migrations.AlterField(
        model_name="approvalstep",
        name="decided_for",
        field=models.ForeignKey(
            blank=True,
            db_index=False,
            help_text="The delegator, when the decision was taken by their delegate.",
            null=True,
            on_delete=django.db.models.deletion.PROTECT,
            related_name="+",
            to=settings.AUTH_USER_MODEL,
        ),
    ),
    migrations.AlterField(
        model_name="approvalstep",
        name="escalation_group",
        field=models.ForeignKey(
            blank=True,
            db_index=False,
            null=True,
            on_delete=django.db.models.deletion.PROTECT,
            related_name="+",
            to="auth.group",
        ),
    ),
    migrations.AlterField(
        model_name="approvalstep",
        name="escalation_user",
        field=models.ForeignKey(
            blank=True,
            db_index=False,
            null=True,
            on_delete=django.db.models.deletion.PROTECT,
            related_name="+",
            to=settings.AUTH_USER_MODEL,
        ),
    ),
    migrations.AlterField(
        model_name="approvalstep",
        name="request",
        field=models.ForeignKey(
            blank=True,
            db_index=False,
            null=True,
            on_delete=django.db.models.deletion.CASCADE,
            related_name="steps",
            to="intake.purchaserequest",
        ),
    ),
    migrations.AlterField(
        model_name="approvalstep",
        name="rule",
        field=models.ForeignKey(
            blank=True,
            db_index=False,
            null=True,
            on_delete=django.db.models.deletion.SET_NULL,
            related_name="steps",
            to="approvals.approvalrule",
        ),
    ),
    migrations.AlterField(
        model_name="approvalstep",
        name="vendor",
        field=models.ForeignKey(
            blank=True,
            db_index=False,
            null=True,
            on_delete=django.db.models.deletion.CASCADE,
            related_name="steps",
            to="vendors.vendor",
        ),
    ),
]


class Migration(migrations.Migration):
    dependencies = [
        ("approvals", "0015_request_review_steps_by_side"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("intake", "0007_bounded_request_input"),
        ("vendors", "0007_contract_seats"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX IF EXISTS approvals_approvalstep_{column}_{suffix}",
                    f"CREATE INDEX IF NOT EXISTS approvals_approvalstep_{column}_{suffix} "
                    f"ON approvals_approvalstep ({column})",
                )
                for column, suffix in INDEXES
            ],
            state_operations=STATE,
        ),
        *(
            migrations.AddIndex(
                model_name="approvalstep",
                index=models.Index(
                    condition=models.Q((f"{field}__isnull", False)),
                    fields=[field],
                    name=f"steps_by_{field}",
                ),
            )
            for field in ("decided_by", "decided_for", "escalation_user", "escalation_group")
        ),
    ]
