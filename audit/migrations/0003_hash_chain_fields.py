"""The hash chain's columns, empty at first: 0004 fills them for the events already written,
0005 then makes them required."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_refuse_changes_in_postgresql")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="sequence",
            field=models.PositiveBigIntegerField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(editable=False, max_length=64, default=""),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(editable=False, max_length=64, default=""),
            preserve_default=False,
        ),
        migrations.CreateModel(
            name="AuditCheckpoint",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "day",
                    models.DateField(help_text="One checkpoint per day (UTC).", unique=True),
                ),
                (
                    "sequence",
                    models.PositiveBigIntegerField(help_text="How many events the chain held."),
                ),
                ("head_hash", models.CharField(max_length=64)),
                ("signed_at", models.DateTimeField()),
                (
                    "signature",
                    models.CharField(help_text="Ed25519 signature, base64.", max_length=100),
                ),
                (
                    "public_key",
                    models.CharField(help_text="Ed25519 public key, base64 (raw).", max_length=100),
                ),
                (
                    "key_id",
                    models.CharField(help_text="Start of the public key's SHA-256.", max_length=16),
                ),
            ],
            options={"ordering": ["-sequence", "-id"], "get_latest_by": "signed_at"},
        ),
    ]
