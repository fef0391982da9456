"""Shared pieces of the vendor page tests (SPEC §5, §6): the questionnaire's questions, today,
and readers of a page's rows and field errors. The tests are split by page part:
test_pages_list (who sees the pages, the list), test_pages_form (the vendor form and the
questionnaire), test_pages_documents (certificates and contracts) and test_pages_review
(requests, performance and the joint review)."""

import re
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests.intake.test_uploads import PDF
from vendors.models import (
    AnswerOption,
    SecurityQuestion,
)

# The default questionnaire (vendors/migrations/0003): weights 3, 3, 2, 1, 1.
CERTIFIED = "Does the vendor hold a current SOC 2 Type II or ISO 27001 certification?"
DATA = "Which company data will the vendor store or process?"


def today():
    return timezone.localdate()


def html(response) -> str:
    return response.content.decode()


def row(page: str, attribute: str, value: str) -> str:
    """The table row `<tr attribute="value">` of a page, or "" when there is none."""
    match = re.search(rf'<tr {attribute}="{re.escape(value)}".*?</tr>', page, re.S)
    return match.group() if match else ""


def field_error(page: str, field: str) -> str:
    """The message templates/includes/field.html shows under a field, or ""."""
    match = re.search(rf'id="id_{field}_error">(.*?)</div>', page, re.S)
    return match.group(1) if match else ""


def answers_with_risk(risks: dict[str, int]) -> dict[str, int]:
    """POST data of the questionnaire: for each active question the option with the given risk
    (0 for questions not named)."""
    data = {}
    for question in SecurityQuestion.objects.filter(active=True):
        option = AnswerOption.objects.get(question=question, risk=risks.get(question.text, 0))
        data[f"question_{question.pk}"] = option.pk
    return data


def certificate_data(**overrides):
    data = {
        "kind": "soc2_type2",
        "issuer": "Example Audit LLP",
        "issued_on": (today() - timedelta(days=345)).isoformat(),
        "expires_on": (today() + timedelta(days=20)).isoformat(),
        "document": SimpleUploadedFile("soc2.pdf", PDF, content_type="application/pdf"),
    }
    data.update(overrides)
    return data


def contract_data(owner, **overrides):
    data = {
        "title": "Analytics platform 2025",
        "starts_on": (today() - timedelta(days=10)).isoformat(),
        "ends_on": (today() + timedelta(days=355)).isoformat(),
        "auto_renew": "on",
        "notice_days": "60",
        "annual_value": "24000.00",
        "currency": "EUR",
        "owner": owner.pk,
    }
    data.update(overrides)
    return data
