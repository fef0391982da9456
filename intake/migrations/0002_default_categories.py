"""The purchase categories of SPEC §2; admins add and retire categories in the admin."""

from django.db import migrations

CATEGORIES = [
    ("Software licence", "software-licence", False),
    ("SaaS subscription", "saas-subscription", False),
    ("Hardware", "hardware", True),
    ("Cloud infrastructure", "cloud-infrastructure", False),
    ("IT services", "it-services", False),
    ("Telecom", "telecom", False),
]


def create_categories(apps, schema_editor):
    Category = apps.get_model("intake", "Category")
    for name, slug, is_catalog in CATEGORIES:
        Category.objects.get_or_create(slug=slug, defaults={"name": name, "is_catalog": is_catalog})


def remove_categories(apps, schema_editor):
    apps.get_model("intake", "Category").objects.filter(
        slug__in=[slug for _, slug, _ in CATEGORIES], requests__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("intake", "0001_initial")]

    operations = [migrations.RunPython(create_categories, remove_categories)]
