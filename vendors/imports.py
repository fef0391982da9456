"""Bringing vendors and contracts in from a CSV or XLSX file (issue #33): the budget import's
principles (budgets.services.import_budgets) for a richer record. Every row is checked by the
models' own validation, as the vendor and contract forms are; the result says per row what
will be created, updated or refused and why; and the file is applied all at once, in one
durable transaction, only when no row is refused.

Why not django-import-export: its resources would duplicate what the models and
`vendors.selectors` already say (who may own a contract, one vendor per name), and its admin
flow is not the procurement page the issue asks for. This module is one pass over the rows
with the same rules, and bulk writes so that 5,000 vendors import in seconds.

One row is one vendor, and optionally one of its contracts: a vendor with three contracts is
three rows with the same vendor name. Vendors are matched by name (any case), contracts by
`contract_id` or by vendor and title (any case). An empty cell leaves the stored value as it
is; on a new contract the dates, value and owner are required."""

import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from audit.services import NewEvent, record_events

from . import policies, selectors
from .models import Contract, Vendor
from .services import normalized_fields

MAX_BYTES = 1024 * 1024
MAX_ROWS = 10_000
VENDOR_COLUMNS = ["legal_name", "website", "country", "contact_name", "contact_email"]
CONTRACT_COLUMNS = [
    "owner",
    "starts_on",
    "ends_on",
    "notice_days",
    "seats",
    "annual_value",
    "currency",
    "auto_renew",
]
COLUMNS = ["vendor", *VENDOR_COLUMNS, "contract", "contract_id", *CONTRACT_COLUMNS]
EXAMPLE = [
    "vendor,website,country,contract,owner,starts_on,ends_on,notice_days,seats,annual_value,"
    "currency,auto_renew",
    "Atlassian,https://atlassian.com,AU,Jira Cloud,olga,2025-01-01,2025-12-31,60,250,45000,EUR,yes",
    "Acme Hosting,https://acme.example,DE,,,,,,,,,",
]
LABELS = {
    "starts_on": "start date",
    "ends_on": "end date",
    "notice_days": "notice (days)",
    "annual_value": "annual value",
    "auto_renew": "renews automatically",
    "contact_email": "contact e-mail",
    "contact_name": "contact name",
    "legal_name": "legal name",
    "title": "contract",
    "name": "vendor",
}
TRUE = {"yes", "y", "true", "1"}
FALSE = {"no", "n", "false", "0"}


class ImportFileError(Exception):
    """The file as a whole cannot be read (not CSV or XLSX, no header, unknown columns)."""


@dataclass
class RowResult:
    line: int
    vendor: str
    actions: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        """In words: "Refused", "New", "Update" or "No change"."""
        if self.problems:
            return "Refused"
        if any(a.startswith("New") for a in self.actions):
            return "New"
        return "Update" if self.actions else "No change"

    @property
    def details(self) -> str:
        return "; ".join(self.problems or self.actions or ["Already as in the file."])


@dataclass
class ImportReport:
    rows: list[RowResult] = field(default_factory=list)
    applied: bool = False
    vendors_created: int = 0
    vendors_updated: int = 0
    contracts_created: int = 0
    contracts_updated: int = 0
    # What the plan will write (filled by `plan`, used by `_apply`).
    _new_vendors: list = field(default_factory=list, repr=False)
    _changed_vendors: dict = field(default_factory=dict, repr=False)
    _new_contracts: list = field(default_factory=list, repr=False)
    _changed_contracts: dict = field(default_factory=dict, repr=False)

    @property
    def refused(self) -> list[RowResult]:
        return [row for row in self.rows if row.problems]

    def summary(self) -> str:
        verb = "Imported" if self.applied else "Will import"
        return (
            f"{verb} {self.vendors_created} new and {self.vendors_updated} changed vendors, "
            f"{self.contracts_created} new and {self.contracts_updated} changed contracts."
        )


# Reading the file


def read_rows(name: str, content: bytes) -> list[tuple[int, dict]]:
    """(line, {column: text or value}) for each non-empty row, from CSV or XLSX (by its zip
    signature, whatever its name says). Raises ImportFileError naming what is wrong."""
    if not content:
        raise ImportFileError("The file is empty.")
    if len(content) > MAX_BYTES:
        raise ImportFileError("The file is larger than 1 MB: split it in parts.")
    if content.startswith(b"PK\x03\x04"):
        table = _xlsx_table(content)
    elif name.lower().endswith((".xlsx", ".xlsm")):
        raise ImportFileError("The file is not a readable XLSX workbook.")
    else:
        table = _csv_table(content)
    header = [_column(cell) for cell in (next(table, None) or [])]
    if not any(header):
        raise ImportFileError("The file has no header row: its first row names the columns.")
    unknown = [h for h in header if h and h not in COLUMNS]
    if unknown:
        raise ImportFileError(
            f"Unknown columns: {', '.join(unknown)}. The columns are {', '.join(COLUMNS)}."
        )
    if "vendor" not in header:
        raise ImportFileError("The header lacks the vendor column (the vendor's name).")
    rows = []
    for line, cells in enumerate(table, start=2):
        values = {h: _cell(c) for h, c in zip(header, cells, strict=False) if h}
        if any(v not in ("", None) for v in values.values()):
            rows.append((line, values))
        if len(rows) > MAX_ROWS:
            raise ImportFileError(f"The file has more than {MAX_ROWS:,} rows: split it in parts.")
    if not rows:
        raise ImportFileError("The file has a header but no rows.")
    return rows


def _column(cell) -> str:
    return str(cell or "").strip().lower().replace(" ", "_").replace("-", "_")


def _cell(value):
    if isinstance(value, str):
        return value.strip()
    return "" if value is None else value


def _csv_table(content: bytes):
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(
            "The file is neither an XLSX workbook nor UTF-8 text: save it as CSV UTF-8 or XLSX."
        ) from None
    if "\x00" in text:
        raise ImportFileError("The file is not a CSV text file.")
    try:
        return iter(list(csv.reader(io.StringIO(text))))
    except csv.Error as error:
        raise ImportFileError(f"The CSV file cannot be read: {error}.") from None


def _xlsx_table(content: bytes):
    from openpyxl import load_workbook  # only when a workbook comes

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        rows = list(workbook.worksheets[0].iter_rows(values_only=True, max_row=MAX_ROWS + 2))
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, IndexError, OSError):
        raise ImportFileError("The file is not a readable XLSX workbook.") from None
    return iter(rows)


# Checking each row


def _date(value, label, problems):
    if value in ("", None):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        problems.append(f"the {label} “{value}” is not a date like 2025-12-31")


def _number(value, label, problems, *, whole=False):
    if value in ("", None):
        return None
    try:
        number = Decimal(str(value).replace(",", "").replace(" ", ""))
        if not number.is_finite() or number < 0 or number >= Decimal("1e12"):
            raise InvalidOperation
        if whole:
            if number != number.to_integral_value():
                raise InvalidOperation
            return int(number)
        return number.quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        kind = "a whole number" if whole else "a positive number"
        problems.append(f"the {label} “{value}” is not {kind}")


def _flag(value, label, problems):
    if value in ("", None):
        return None
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    if text in TRUE | FALSE:
        return text in TRUE
    problems.append(f"{label} “{value}” is not yes or no")


def _words(error: ValidationError) -> list[str]:
    """The model's messages, each after the name of its field as the file calls it."""
    if not hasattr(error, "error_dict"):
        return list(error.messages)
    return [
        f"{LABELS.get(name, name.replace('_', ' '))}: {message}"
        for name, messages in error.message_dict.items()
        for message in messages
    ]


class _Lookups:
    """Everything a row is matched against, read once: one query each, whatever the rows."""

    def __init__(self):
        self.vendors = {v.name.lower(): v for v in Vendor.objects.all()}
        self.contracts = {}
        self.contracts_by_id = {}
        for contract in Contract.objects.all():
            self.contracts_by_id[contract.pk] = contract
            key = (contract.vendor_id, contract.title.lower())
            self.contracts.setdefault(key, []).append(contract)
        self.people = {}
        for person in get_user_model().objects.all():
            self.people.setdefault(person.username.lower(), []).append(person)
            if person.email:
                self.people.setdefault(person.email.lower(), []).append(person)
        self.owners = set(selectors.contract_owners().values_list("pk", flat=True))

    def owner(self, text, problems):
        found = self.people.get(str(text).lower(), [])
        if len(found) != 1:
            problems.append(
                f"no person “{text}” (give a username or e-mail address)"
                if not found
                else f"more than one person is “{text}”: give the username"
            )
            return None
        if found[0].pk not in self.owners:
            problems.append(selectors.why_cannot_own_contracts(found[0]))
            return None
        return found[0]


def plan(rows: list[tuple[int, dict]], *, by=None) -> ImportReport:
    """What the rows would do, row by row, writing nothing."""
    if by is not None:
        policies.can_manage_vendor(by).enforce()
    report, lookups = ImportReport(), _Lookups()
    planned: dict[str, tuple[int, Vendor, dict]] = {}  # vendor key: (line, vendor, fields)
    contracts_seen: dict[tuple, int] = {}
    for line, values in rows:
        result = RowResult(line=line, vendor=str(values.get("vendor", "")))
        report.rows.append(result)
        vendor = _plan_vendor(report, result, values, lookups, planned, by)
        if vendor is not None and _has_contract(values):
            _plan_contract(report, result, values, vendor, lookups, contracts_seen)
        if result.problems:
            result.actions = []
    report.vendors_created = len(report._new_vendors)
    report.vendors_updated = len(report._changed_vendors)
    report.contracts_created = len(report._new_contracts)
    report.contracts_updated = len(report._changed_contracts)
    return report


def _has_contract(values) -> bool:
    return any(values.get(name) not in ("", None) for name in ["contract", "contract_id"])


def _plan_vendor(report, result, values, lookups, planned, by):
    name = result.vendor
    if not name:
        result.problems.append("the vendor's name is empty")
        return None
    given = normalized_fields(
        {c: str(values[c]) for c in VENDOR_COLUMNS if values.get(c) not in ("", None)}
    )
    key = name.lower()
    if key in planned:  # a second contract of a vendor named earlier in the file
        first_line, vendor, first = planned[key]
        clash = [c for c, v in given.items() if first.get(c, v) != v]
        if clash:
            result.problems.append(
                f"line {first_line} gives other {', '.join(LABELS.get(c, c) for c in clash)} "
                "for this vendor"
            )
        return vendor
    vendor = lookups.vendors.get(key)
    new = vendor is None
    if new:
        vendor = Vendor(name=name, proposed_by=by, **given)
        changed = list(given)
    else:
        changed = [c for c, v in given.items() if getattr(vendor, c) != v]
    before = _assign(vendor, given, changed)
    try:  # the one name per vendor is the match above: the constraint is not asked again
        vendor.full_clean(exclude=["status"], validate_constraints=False)
    except ValidationError as error:
        result.problems.extend(_words(error))
        _assign(vendor, before, changed)  # later rows see the stored record
        return None
    planned[key] = (result.line, vendor, given)
    if new:
        report._new_vendors.append(vendor)
        result.actions.append(f"New vendor {name}")
    elif changed:
        report._changed_vendors[vendor.pk] = (vendor, changed)
        result.actions.append(f"Vendor changes: {', '.join(LABELS.get(c, c) for c in changed)}")
    return vendor


def _plan_contract(report, result, values, vendor, lookups, seen):
    problems = result.problems
    title = str(values.get("contract", ""))
    contract = _matching_contract(values, vendor, title, lookups, problems)
    if problems:
        return
    given = {
        "title": title or None,
        "owner": lookups.owner(values["owner"], problems) if values.get("owner") else None,
        "starts_on": _date(values.get("starts_on"), "start date", problems),
        "ends_on": _date(values.get("ends_on"), "end date", problems),
        "notice_days": _number(values.get("notice_days"), "notice", problems, whole=True),
        "seats": _number(values.get("seats"), "number of seats", problems, whole=True),
        "annual_value": _number(values.get("annual_value"), "annual value", problems),
        "currency": str(values.get("currency") or "").upper() or None,
        "auto_renew": _flag(values.get("auto_renew"), "renews automatically", problems),
    }
    if problems:
        return
    given = {k: v for k, v in given.items() if v is not None}
    if contract is not None and values.get("contract_id") in ("", None):
        del given["title"]  # matched by its title, in any case: the stored spelling stays
    new = contract is None
    if new:
        missing = [
            LABELS.get(c, c) for c in ("owner", "starts_on", "ends_on", "annual_value")
            if c not in given
        ]  # fmt: skip
        if missing:
            problems.append(f"a new contract needs its {', '.join(missing)}")
            return
        contract = Contract(vendor=vendor, **given)
        changed = list(given)
    else:
        changed = [c for c, v in given.items() if getattr(contract, c) != v]
    key = contract.pk or (id(vendor), contract.title.lower())
    if key in seen:
        problems.append(f"line {seen[key]} already names this contract")
        return
    before = _assign(contract, given, changed)
    try:  # the end after the start is also the model's clean(), and the owner was looked up
        contract.full_clean(exclude=["vendor", "owner"], validate_constraints=False)
    except ValidationError as error:
        problems.extend(_words(error))
        _assign(contract, before, changed)
        return
    seen[key] = result.line
    if new:
        report._new_contracts.append(contract)
        result.actions.append(f"New contract “{contract.title}”")
    elif changed:
        report._changed_contracts[contract.pk] = (contract, changed)
        result.actions.append(
            f"Contract “{contract.title}” changes: {', '.join(LABELS.get(c, c) for c in changed)}"
        )


def _assign(record, values: dict, names: list) -> dict:
    """Sets `names` from `values` on the record; returns what they were."""
    before = {name: getattr(record, name) for name in names if record.pk}
    for name in names:
        setattr(record, name, values.get(name))
    return before


def _matching_contract(values, vendor, title, lookups, problems):
    raw_id = values.get("contract_id")
    if raw_id not in ("", None):
        number = _number(raw_id, "contract id", problems, whole=True)
        contract = lookups.contracts_by_id.get(number)
        if number is not None and (contract is None or contract.vendor_id != vendor.pk):
            problems.append(f"{vendor.name} has no contract with the id {raw_id}")
        return contract
    if not title:
        problems.append("the contract's title is empty")
        return None
    found = lookups.contracts.get((vendor.pk, title.lower()), []) if vendor.pk else []
    if len(found) > 1:
        problems.append(
            f"{vendor.name} has {len(found)} contracts named “{title}”: give the contract_id"
        )
        return None
    return found[0] if found else None


# Applying


def import_file(name: str, content: bytes, *, by=None, dry_run: bool) -> ImportReport:
    """Reads and checks the file; unless `dry_run`, applies it when no row is refused. The
    plan is made again inside the transaction that applies it, so what is written is checked
    against the database as it is at that moment, not as it was at the dry run."""
    rows = read_rows(name, content)
    if dry_run:
        return plan(rows, by=by)
    try:
        with transaction.atomic(durable=True):
            report = plan(rows, by=by)
            if not report.refused:
                _apply(report, by)
    except IntegrityError:  # a vendor of the same name was saved meanwhile: nothing written
        report = plan(rows, by=by)
    return report


def _apply(report: ImportReport, by) -> None:
    """Bulk writes, then one audit event per vendor or contract created or changed, in one
    INSERT (audit.services.record_events), all in the caller's transaction."""
    Vendor.objects.bulk_create(report._new_vendors, batch_size=1000)
    changed_vendors = list(report._changed_vendors.values())
    fields = sorted({c for _, changed in changed_vendors for c in changed})
    if fields:
        Vendor.objects.bulk_update([v for v, _ in changed_vendors], fields, batch_size=1000)
    for contract in report._new_contracts:
        contract.vendor_id = contract.vendor.pk  # the new vendors have theirs now
    Contract.objects.bulk_create(report._new_contracts, batch_size=1000)
    changed_contracts = list(report._changed_contracts.values())
    fields = sorted({c for _, changed in changed_contracts for c in changed})
    if fields:
        Contract.objects.bulk_update([c for c, _ in changed_contracts], fields, batch_size=1000)
    events = [
        NewEvent(v, "created", by, to_state=v.status, payload={"imported": True})
        for v in report._new_vendors
    ]
    events += [
        NewEvent(v, "edited", by, payload={"fields": changed, "imported": True})
        for v, changed in changed_vendors
    ]
    events += [
        NewEvent(c.vendor, "contract_added", by, payload=_contract_payload(c))
        for c in report._new_contracts
    ]
    events += [
        NewEvent(c.vendor, "contract_changed", by, payload=_contract_payload(c, changed))
        for c, changed in changed_contracts
    ]
    record_events(events)
    report.applied = True


def _contract_payload(contract, changed=None) -> dict:
    payload = {"contract": contract.pk, "title": contract.title, "ends_on": contract.ends_on}
    if changed is not None:
        payload["fields"] = changed
    payload["imported"] = True
    return payload
