import json

from django.db import transaction


def rolled_back_atomic():
    """An atomic block for data a test builds once and rolls back (e.g. a module's fixture),
    marked as Django's TestCase marks its own: the services' durable transactions (the
    outermost of a user action) may then run inside it, as they do inside every test."""
    atomic = transaction.atomic()
    atomic._from_testcase = True
    return atomic


def complete_request_payload(manage, title: str, *, during: str) -> dict:
    """A request complete enough to submit through the API of a live server, with the demo
    organisation's ids read by `manage` (runs a manage.py command of that server, returns the
    finished process)."""
    ids = json.loads(
        manage(
            "shell",
            "-c",
            "import json; from intake.models import Category; from vendors.models import Vendor;"
            "from accounts.models import Department;"
            "print(json.dumps({'category': Category.objects.filter(active=True).first().pk,"
            "'vendor': Vendor.objects.filter(status='approved').first().pk,"
            "'department': Department.objects.first().pk}))",
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    return {
        "title": title,
        "description": f"Filed {during}.",
        "business_justification": "Resilience.",
        "needed_by": "2099-01-31",
        "data_classification": "internal",
        "handles_personal_data": False,
        "currency": "EUR",
        "billing": "one_off",
        "line_items": [{"description": "Seat", "quantity": "2", "unit_price": "100.00"}],
        **ids,
    }
