"""Group notices (issue #28 item 2): a step opening for a group is one in-app row for the
group, each member's read state a row of their own; a digest records the window of group
notices it covers (the digests before this one covered none: an empty window at their
writing)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def empty_windows(apps, schema_editor):
    Digest = apps.get_model("notifications", "Digest")
    Digest.objects.update(since=models.F("created_at"), until=models.F("created_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("notifications", "0009_daily_digest_schedule"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="NoticeState",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("read_at", models.DateTimeField(blank=True, null=True)),
                (
                    "hidden",
                    models.BooleanField(default=False, help_text="Not shown to this member."),
                ),
            ],
        ),
        migrations.AddField(
            model_name="digest",
            name="since",
            field=models.DateTimeField(help_text="Group notices written after this…", null=True),
        ),
        migrations.AddField(
            model_name="digest",
            name="until",
            field=models.DateTimeField(
                help_text="…up to this instant are in this digest.", null=True
            ),
        ),
        migrations.RunPython(empty_windows, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="digest",
            name="since",
            field=models.DateTimeField(help_text="Group notices written after this…"),
        ),
        migrations.AlterField(
            model_name="digest",
            name="until",
            field=models.DateTimeField(help_text="…up to this instant are in this digest."),
        ),
        migrations.AddField(
            model_name="notification",
            name="group",
            field=models.ForeignKey(
                blank=True,
                help_text="A group notice: the one in-app row its members see.",
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="notices",
                to="auth.group",
            ),
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(
                condition=models.Q(("group__isnull", False), ("recipient__isnull", True)),
                fields=["group", "-created_at", "-id"],
                name="group_notices_newest_first",
            ),
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(
                condition=models.Q(
                    ("done_at__isnull", True), ("group__isnull", False), ("recipient__isnull", True)
                ),
                fields=["group", "created_at"],
                name="open_group_notices",
            ),
        ),
        migrations.AddField(
            model_name="noticestate",
            name="notification",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="states",
                to="notifications.notification",
            ),
        ),
        migrations.AddField(
            model_name="noticestate",
            name="user",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="notice_states",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddConstraint(
            model_name="noticestate",
            constraint=models.UniqueConstraint(
                fields=("notification", "user"), name="one_state_per_reader"
            ),
        ),
    ]
