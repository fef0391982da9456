"""Starting exchange rates into EUR, the default base currency; admins keep them current."""

from decimal import Decimal

from django.db import migrations

RATES = {
    "USD": "0.92",
    "GBP": "1.17",
    "CHF": "1.05",
    "SEK": "0.088",
    "NOK": "0.086",
    "DKK": "0.134",
    "PLN": "0.23",
}


def create(apps, schema_editor):
    ExchangeRate = apps.get_model("intake", "ExchangeRate")
    for currency, rate in RATES.items():
        ExchangeRate.objects.get_or_create(
            currency=currency, defaults={"rate_to_base": Decimal(rate)}
        )


class Migration(migrations.Migration):
    dependencies = [("intake", "0003_exchangerate_purchaserequest_total_cost_base")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
