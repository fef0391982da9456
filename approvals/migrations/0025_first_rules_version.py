"""Version 1 of the routing rules: the rules as they are when versions begin (issue #32)."""

from django.db import migrations

from approvals import rulesets


def create(apps, schema_editor):
    RuleSetVersion = apps.get_model("approvals", "RuleSetVersion")
    if RuleSetVersion.objects.exists():
        return
    rules = rulesets.snapshot(apps.get_model("approvals", "ApprovalRule"))
    RuleSetVersion.objects.create(
        number=1,
        reason="The rules when versions began",
        rules=rules,
        changes=[f"First version: {len(rules)} rule(s)"],
    )


def remove(apps, schema_editor):
    apps.get_model("approvals", "RuleSetVersion").objects.filter(number=1).delete()


class Migration(migrations.Migration):
    dependencies = [("approvals", "0024_rule_set_versions")]

    operations = [migrations.RunPython(create, remove)]
