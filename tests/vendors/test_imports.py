"""Importing vendors and contracts from CSV or XLSX (issue #33): a dry run that says per row
what happens and why, all rows or none, one audit event per record, renewals as for any
contract."""

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from openpyxl import Workbook

from audit.models import AuditEvent
from budgets import services as budget_services
from budgets.models import Renewal
from tests.factories import UserFactory, VendorFactory
from vendors.imports import ImportFileError, import_file, read_rows
from vendors.models import Contract, Vendor

HEADER = "vendor,website,country,contract,owner,starts_on,ends_on,notice_days,seats,annual_value"


@pytest.fixture
def olga(db):
    return UserFactory(username="olga", email="olga@tandem.example", roles=["procurement"])


def csv_bytes(*lines, header=HEADER) -> bytes:
    return "\n".join([header, *lines]).encode()


def xlsx_bytes(rows) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


GOOD = [
    "Atlassian,https://atlassian.com,au,Jira Cloud,olga,2025-01-01,2025-12-31,60,250,45000",
    "Atlassian,,,Confluence,olga@tandem.example,2025-01-01,2025-12-31,30,,12000.50",
    "Acme Hosting,https://acme.example,DE,,,,,,,",
]


def test_a_dry_run_says_per_row_what_will_happen_and_writes_nothing(olga):
    report = import_file("v.csv", csv_bytes(*GOOD), by=olga, dry_run=True)
    assert [(r.line, r.outcome) for r in report.rows] == [(2, "New"), (3, "New"), (4, "New")]
    assert report.rows[0].details == "New vendor Atlassian; New contract “Jira Cloud”"
    assert (
        report.summary()
        == "Will import 2 new and 0 changed vendors, 2 new and 0 changed contracts."
    )
    assert not Vendor.objects.exists() and not Contract.objects.exists()


def test_the_file_imports_with_its_owners_notice_seats_and_values(olga):
    report = import_file("v.csv", csv_bytes(*GOOD), by=olga, dry_run=False)
    assert report.applied and not report.refused
    atlassian = Vendor.objects.get(name="Atlassian")
    assert atlassian.country == "AU" and atlassian.proposed_by == olga
    jira = Contract.objects.get(title="Jira Cloud")
    assert (jira.vendor, jira.owner, jira.notice_days, jira.seats, jira.annual_value) == (
        atlassian, olga, 60, 250, Decimal("45000.00"),
    )  # fmt: skip
    confluence = Contract.objects.get(title="Confluence")
    assert (confluence.owner, confluence.seats, confluence.annual_value) == (
        olga, None, Decimal("12000.50"),
    )  # fmt: skip
    assert Vendor.objects.filter(name="Acme Hosting", website="https://acme.example").exists()


def test_bad_rows_are_refused_each_naming_its_problem_and_nothing_is_written(olga):
    rita = UserFactory(username="rita")  # a requester: may not own a contract
    lines = [
        GOOD[0],
        "Bad Dates,,,Plan,olga,2025-12-31,2025-01-01,30,,100",
        "Nobody Owns,,,Plan,ghost,2025-01-01,2025-12-31,30,,100",
        "Requester Owns,,,Plan,rita,2025-01-01,2025-12-31,30,,100",
        "Words,,,Plan,olga,soon,2025-12-31,thirty,,lots",
        "Missing,,,Plan,olga,,,,,",
        ",,,,,,,,,5",
        "Web,not a site,,,,,,,,",
    ]
    report = import_file("v.csv", csv_bytes(*lines), by=olga, dry_run=False)
    assert not report.applied
    details = {r.line: r.details for r in report.refused}
    assert details == {
        3: "end date: The contract must end after it starts.",
        4: "no person “ghost” (give a username or e-mail address)",
        5: details[5],
        6: "the start date “soon” is not a date like 2025-12-31; the notice “thirty” is not a "
        "whole number; the annual value “lots” is not a positive number",
        7: "a new contract needs its start date, end date, annual value",
        8: "the vendor's name is empty",
        9: "website: Enter a valid URL.",
    }
    assert details[5] == (
        f"{rita} cannot own a contract: choose someone from IT, procurement or finance, "
        "a leader or an admin."
    )
    assert report.rows[0].outcome == "New"
    assert not Vendor.objects.exists() and not Contract.objects.exists()
    assert not AuditEvent.objects.exists()


def test_the_corrected_file_then_imports(olga):
    bad = "Bad Dates,,,Plan,olga,2025-12-31,2025-01-01,30,,100"
    assert import_file("v.csv", csv_bytes(GOOD[0], bad), by=olga, dry_run=False).refused
    fixed = "Bad Dates,,,Plan,olga,2025-01-01,2025-12-31,30,,100"
    report = import_file("v.csv", csv_bytes(GOOD[0], fixed), by=olga, dry_run=False)
    assert report.applied
    assert set(Contract.objects.values_list("title", flat=True)) == {"Jira Cloud", "Plan"}


def test_vendors_match_by_name_in_any_case_and_contracts_by_vendor_and_title(olga):
    import_file("v.csv", csv_bytes(*GOOD), by=olga, dry_run=False)
    again = [
        "ATLASSIAN,https://www.atlassian.com,,jira cloud,,,,90,300,",
        "Acme Hosting,,,,,,,,,",
    ]
    report = import_file("v.csv", csv_bytes(*again), by=olga, dry_run=False)
    assert [r.outcome for r in report.rows] == ["Update", "No change"]
    assert report.rows[0].details == (
        "Vendor changes: website; Contract “Jira Cloud” changes: notice (days), seats"
    )
    assert Vendor.objects.count() == 2
    jira = Contract.objects.get(title="Jira Cloud")
    assert (jira.notice_days, jira.seats, jira.annual_value) == (90, 300, Decimal("45000.00"))
    assert Vendor.objects.get(name="Atlassian").website == "https://www.atlassian.com"


def test_a_contract_id_matches_the_contract_of_that_vendor_only(olga):
    import_file("v.csv", csv_bytes(*GOOD), by=olga, dry_run=False)
    jira = Contract.objects.get(title="Jira Cloud")
    header = "vendor,contract_id,contract,annual_value"
    ok = import_file(
        "v.csv", csv_bytes(f"Atlassian,{jira.pk},Jira Software,50000", header=header),
        by=olga, dry_run=False,
    )  # fmt: skip
    assert ok.applied
    jira.refresh_from_db()
    assert (jira.title, jira.annual_value) == ("Jira Software", Decimal("50000.00"))
    wrong = import_file(
        "v.csv", csv_bytes(f"Acme Hosting,{jira.pk},,1", header=header), by=olga, dry_run=True
    )
    assert wrong.rows[0].details == f"Acme Hosting has no contract with the id {jira.pk}"


def test_one_audit_event_per_vendor_and_contract_created_or_changed(olga):
    import_file("v.csv", csv_bytes(*GOOD), by=olga, dry_run=False)
    atlassian = Vendor.objects.get(name="Atlassian")
    kinds = sorted(AuditEvent.objects.for_object(atlassian).values_list("kind", flat=True))
    assert kinds == ["contract_added", "contract_added", "created"]
    assert AuditEvent.objects.count() == 4  # two vendors, two contracts
    import_file(
        "v.csv", csv_bytes("Atlassian,https://a.example,,Jira Cloud,,,,45,,"), by=olga,
        dry_run=False,
    )  # fmt: skip
    events = AuditEvent.objects.for_object(atlassian).order_by("-pk")[:2]
    assert {(e.kind, tuple(e.payload["fields"])) for e in events} == {
        ("edited", ("website",)),
        ("contract_changed", ("notice_days",)),
    }
    assert all(e.actor == olga for e in events)


def test_an_xlsx_workbook_reads_as_the_csv_does(olga):
    content = xlsx_bytes([
        ["Vendor", "Contract", "Owner", "Starts on", "Ends on", "Annual value", "Auto renew"],
        ["Figma", "Enterprise", "olga", date(2025, 3, 1), date(2026, 2, 28), 18000, "yes"],
    ])  # fmt: skip
    report = import_file("vendors.xlsx", content, by=olga, dry_run=False)
    assert report.applied
    figma = Contract.objects.get(vendor__name="Figma")
    assert (figma.starts_on, figma.annual_value, figma.auto_renew) == (
        date(2025, 3, 1), Decimal("18000.00"), True,
    )  # fmt: skip


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("v.csv", b"", "The file is empty."),
        ("v.csv", b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "neither an XLSX workbook nor UTF-8"),
        ("v.xlsx", b"PK\x03\x04garbage", "not a readable XLSX workbook"),
        ("v.csv", b"name,price\nAcme,1\n", "Unknown columns: name, price."),
        ("v.csv", b"website\nhttps://a.example\n", "lacks the vendor column"),
        ("v.csv", b"vendor,contract\n", "a header but no rows"),
    ],
)
def test_an_unreadable_file_is_refused_as_a_whole(name, content, message):
    with pytest.raises(ImportFileError, match=message):
        read_rows(name, content)


def test_someone_who_may_not_manage_vendors_cannot_import(db):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        import_file("v.csv", csv_bytes(*GOOD), by=UserFactory(), dry_run=True)


def test_an_imported_contract_inside_the_lead_window_gets_its_renewal(olga, settings):
    """Imported contracts are contracts like those of the form: the renewal schedule drafts
    their renewal request when their notice deadline is near."""
    settings.TANDEM_RENEWAL_LEAD_DAYS = 90
    today = date(2026, 3, 1)
    ends = today + timedelta(days=100)  # notice deadline in 70 days: inside the lead window
    line = f"Slack,,,Business+,olga,{ends - timedelta(days=365)},{ends},30,40,8000"
    with time_machine.travel(today, tick=False):
        assert import_file("v.csv", csv_bytes(line), by=olga, dry_run=False).applied
        assert budget_services.run_renewal_schedule(today)["created"] == 1
    renewal = Renewal.objects.get()
    assert renewal.contract.title == "Business+" and renewal.request.requester == olga


def test_an_existing_vendor_keeps_its_status_and_review(olga):
    vendor = VendorFactory(name="Zoom")
    import_file("v.csv", csv_bytes("zoom,https://zoom.us,,,,,,,,"), by=olga, dry_run=False)
    vendor.refresh_from_db()
    assert (vendor.status, vendor.website, vendor.name) == ("approved", "https://zoom.us", "Zoom")


def test_the_command_prints_the_report_and_imports_only_without_dry_run(olga, tmp_path):
    from django.core.management import CommandError, call_command

    path = tmp_path / "vendors.csv"
    path.write_bytes(csv_bytes(*GOOD))
    out = io.StringIO()
    call_command("import_vendors", str(path), "--dry-run", "--by", "olga", stdout=out)
    assert "Line 2: Atlassian: New: New vendor Atlassian; New contract “Jira Cloud”" in (
        out.getvalue()
    )
    assert "Will import 2 new" in out.getvalue() and not Vendor.objects.exists()
    call_command("import_vendors", str(path), "--by", "olga", stdout=io.StringIO())
    assert Vendor.objects.count() == 2
    path.write_bytes(csv_bytes("Bad,,,Plan,ghost,2025-01-01,2025-12-31,30,,100"))
    out = io.StringIO()
    with pytest.raises(CommandError, match="Nothing imported: 1 of 1 rows refused."):
        call_command("import_vendors", str(path), stdout=out)
    assert "Line 2: Bad: Refused: no person “ghost”" in out.getvalue()
    path.write_bytes(b"\x00\xff")
    with pytest.raises(CommandError, match="neither an XLSX workbook"):
        call_command("import_vendors", str(path))
