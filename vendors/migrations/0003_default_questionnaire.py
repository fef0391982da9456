"""A starting security questionnaire and the risk bands its score falls into; admins edit both."""

from decimal import Decimal

from django.db import migrations

QUESTIONS = [
    (
        "Does the vendor hold a current SOC 2 Type II or ISO 27001 certification?",
        3,
        [("Yes, both or one, current", 0), ("In progress", 50), ("No", 100)],
    ),
    (
        "Which company data will the vendor store or process?",
        3,
        [("None", 0), ("Internal", 30), ("Confidential", 70), ("Personal data", 100)],
    ),
    (
        "Is data encrypted at rest and in transit?",
        2,
        [("Both", 0), ("In transit only", 60), ("Neither", 100)],
    ),
    (
        "Does the vendor support single sign-on (SAML or OIDC)?",
        1,
        [("Yes", 0), ("No", 100)],
    ),
    (
        "Where is the data hosted?",
        1,
        [("EU / EEA", 0), ("Adequate country", 30), ("Elsewhere", 100)],
    ),
]
BANDS = [("low", "0"), ("medium", "25"), ("high", "50"), ("critical", "75")]


def create(apps, schema_editor):
    SecurityQuestion = apps.get_model("vendors", "SecurityQuestion")
    AnswerOption = apps.get_model("vendors", "AnswerOption")
    RiskBand = apps.get_model("vendors", "RiskBand")
    if not SecurityQuestion.objects.exists():
        for position, (text, weight, options) in enumerate(QUESTIONS):
            question = SecurityQuestion.objects.create(text=text, weight=weight, position=position)
            for label, risk in options:
                AnswerOption.objects.create(question=question, label=label, risk=risk)
    for tier, min_score in BANDS:
        RiskBand.objects.get_or_create(tier=tier, defaults={"min_score": Decimal(min_score)})


class Migration(migrations.Migration):
    dependencies = [("vendors", "0002_riskband_securityquestion_vendor_carbon_disclosure_and_more")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
