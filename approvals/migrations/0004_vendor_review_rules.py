"""Joint vendor review (SPEC §5): a request naming a vendor that is not approved, or proposing a
new one, gets IT's security review and procurement's due diligence of the vendor first."""

from django.db import migrations

RULES = [
    ("Vendor security review", "it", "it_reviewers", "cio"),
    ("Vendor due diligence", "procurement", "procurement", "cpo"),
]
NOT_APPROVED_YET = ["new", "prospective", "under_review"]


def create(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    ApprovalRule = apps.get_model("approvals", "ApprovalRule")
    for name, side, reviewers, escalation in RULES:
        ApprovalRule.objects.get_or_create(
            name=name,
            defaults={
                "kind": "vendor_review",
                "side": side,
                "stage": 1,
                "vendor_statuses": NOT_APPROVED_YET,
                "reviewer_group": Group.objects.get(name=reviewers),
                "escalation_group": Group.objects.get(name=escalation),
                "sla_hours": 72,
                "repeat_every_hours": 24,
                "escalate_after_hours": 120,
            },
        )


def remove(apps, schema_editor):
    apps.get_model("approvals", "ApprovalRule").objects.filter(
        name__in=[name for name, *_ in RULES], steps__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("approvals", "0003_approvalstep_vendor_alter_approvalrule_kind_and_more")]

    operations = [migrations.RunPython(create, remove)]
