"""The bad-input corpus's shared pieces (SPEC §9): what a filing writes, a valid "New request"
form, and the strings that try to break out of markup. The tests are split by behaviour:
test_bad_input_refused (clear error, nothing saved), test_bad_input_stored (stored as sent,
shown safely), test_bad_input_markup (script in every field, formulas in exports),
test_bad_input_filters (dates, page positions and ids in queries), test_bad_input_sizes (JSON
depth, body and attachment sizes) and test_bad_input_one_line_fields (vendors, contracts,
rules, and notifications that still go out)."""

from audit.models import AuditEvent
from intake.models import LineItem, PurchaseRequest
from tests.factories import CategoryFactory, VendorFactory

LIST = "/api/requests/"
NEW = "/requests/new/"
SIGN_IN_PAGE = "/accounts/login/"
# Breaks out of an element, an attribute (either quote) and a URL, and runs script each way.
XSS = """<script>alert(1)</script><img src=x onerror=alert(2)>"'><svg onload=alert(3)>&amp;"""
RTL = "Лицензии 中文 עברית ‮gnp.exe 🚀 Zoë ﷺ"


def rows_saved():
    """Everything a filing writes: requests, their line items, their audit events."""
    return (
        PurchaseRequest.objects.count(),
        LineItem.objects.count(),
        AuditEvent.objects.count(),
    )


def form_data(**overrides):
    """The "New request" form, filled in validly, with `overrides`."""
    data = {
        "title": "Design tool seats",
        "description": "Seats for the design team.",
        "business_justification": "The team grew.",
        "expected_benefit": "Faster reviews.",
        "category": CategoryFactory().pk,
        "department": "",
        "needed_by": "2099-01-31",
        "currency": "EUR",
        "billing": "one_off",
        "term_months": "",
        "vendor": VendorFactory().pk,
        "proposed_vendor_name": "",
        "proposed_vendor_website": "",
        "data_classification": "internal",
        "handles_personal_data": "false",
        "integration_details": "",
        "items-TOTAL_FORMS": "1",
        "items-INITIAL_FORMS": "0",
        "items-0-description": "Seat",
        "items-0-quantity": "3",
        "items-0-unit_price": "150.00",
    }
    data.update(overrides)
    return data
