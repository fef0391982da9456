"""HTML and script in every text field are escaped on every page and in every e-mail; formula cells
in the CSV exports are neutralised (SPEC §9)."""

import csv
import io

import pytest
from django.core import mail

from approvals import services as approval_services
from approvals import workflow
from intake import services
from tests.factories import PurchaseRequestFactory, VendorFactory
from tests.security.bad_input_support import (
    LIST,
    XSS,
)
from tests.security.conftest import inline_script_in

pytestmark = pytest.mark.django_db


# HTML and script in every text field


TEXT_FIELDS = [
    "title",
    "description",
    "business_justification",
    "expected_benefit",
    "proposed_vendor_name",
    "integration_details",
]


@pytest.fixture
def poisoned(requester, it_reviewer, procurement, django_capture_on_commit_callbacks):
    """A request, its vendor and everything said about it carrying markup in every text field,
    with the e-mails its submission and decisions sent."""
    vendor = VendorFactory(
        name=f"{XSS} vendor",
        legal_name=f"{XSS} legal",
        website="https://vendor.example/?q=%3Cscript%3E",
        contact_name=f"{XSS} contact",
        country="DE",
    )
    purchase_request = PurchaseRequestFactory(
        requester=requester,
        vendor=vendor,
        integrates_with_systems=True,
        line_items=[(f"{XSS} item", "1", "10.00")],
        **{field: f"{XSS} {field}" for field in TEXT_FIELDS},
    )
    requester.first_name, requester.last_name = f"{XSS} Rita", "Q"
    requester.save()
    with django_capture_on_commit_callbacks(execute=True):
        workflow.submit_request(purchase_request, by=requester)
    with django_capture_on_commit_callbacks(execute=True):
        services.add_comment(purchase_request, by=requester, body=f"{XSS} comment")
    step = purchase_request.steps.get(side="procurement")
    with django_capture_on_commit_callbacks(execute=True):
        approval_services.decide_step(
            step, by=procurement, decision="request_changes", comment=f"{XSS} decision"
        )
    return purchase_request


def assert_shown_safely(page: str, where: str):
    assert "<script>alert" not in page, where
    assert "onerror=alert" not in page.replace("onerror=alert(2)&gt;", ""), where
    assert inline_script_in(page) == [], where


def test_markup_in_every_text_field_is_escaped_on_every_page(
    client, poisoned, requester, it_reviewer, procurement, cio, admin_user
):
    pr = poisoned
    views = {
        requester: [pr.get_absolute_url(), f"/requests/{pr.pk}/edit/", "/requests/"],
        it_reviewer: [pr.get_absolute_url(), "/approvals/", "/notifications/"],
        procurement: [
            pr.get_absolute_url(),
            "/vendors/",
            f"/vendors/{pr.vendor_id}/",
            f"/vendors/{pr.vendor_id}/edit/",
        ],
        cio: ["/approvals/", "/insights/", f"/requests/duplicates/?title={XSS}"],
        admin_user: [
            f"/admin/intake/purchaserequest/{pr.pk}/change/",
            "/admin/audit/auditevent/",
            f"/approvals/rules/preview/?request={pr.pk}",
        ],
    }
    shown = 0
    for user, paths in views.items():
        client.force_login(user)
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, path
            page = response.content.decode()
            assert_shown_safely(page, f"{user.username} {path}")
            shown += page.count("&lt;script&gt;alert(1)&lt;/script&gt;")
    assert shown > 20, "the poisoned text is shown (escaped), not dropped"
    client.force_login(requester)
    detail = client.get(pr.get_absolute_url()).content.decode()
    edit = client.get(f"/requests/{pr.pk}/edit/").content.decode()
    for field in TEXT_FIELDS:
        assert f"&lt;svg onload=alert(3)&gt;&amp;amp; {field}" in edit, field
    for text in ("title", "description", "comment", "decision", "item", "vendor"):
        assert f"&lt;svg onload=alert(3)&gt;&amp;amp; {text}" in detail, text


def test_markup_in_every_text_field_is_escaped_in_e_mails(poisoned):
    messages = mail.outbox
    assert messages, "submitting and deciding sent e-mails"
    for message in messages:
        for html, kind in message.alternatives:
            assert kind == "text/html"
            assert_shown_safely(html, f"e-mail “{message.subject}”")
        assert "\n" not in message.subject
    # The plain-text part is text: the words arrive as they were written.
    assert any(f"{XSS} title" in message.body for message in messages)


def test_the_api_returns_markup_as_json_text_not_html(api, poisoned, requester):
    response = api.as_user(requester).get(f"{LIST}{poisoned.pk}/")
    assert response["Content-Type"] == "application/json"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response.json()["title"] == f"{XSS} title"


# Formula cells in the CSV exports

FORMULAS = ['=HYPERLINK("https://evil.example","open")', "+1+1", "-2+3", "@SUM(A1)", "\t=1"]


@pytest.mark.parametrize(
    "path",
    ["/insights/export/requests.csv", "/insights/export/audit.csv"],
    ids=["requests", "audit"],
)
def test_csv_exports_neutralise_formula_cells(client, requester, cio, path):
    for formula in FORMULAS:
        purchase_request = PurchaseRequestFactory(
            requester=requester, title=formula, description=formula
        )
        services.add_comment(purchase_request, by=requester, body=formula)
        # A title is one line: the tab-led formula goes in the description and comment only.
        title = formula.lstrip("\t")
        services.update_request(purchase_request, by=requester, fields={"title": title})
    client.force_login(cio)
    response = client.get(path)
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    found = [cell for cell in cells if any(f in cell for f in FORMULAS)]
    assert found, "the formulas are in the export"
    for cell in found:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), repr(cell)
    assert f"'{FORMULAS[0]}" in cells or path.endswith("audit.csv")
