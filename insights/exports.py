"""CSV exports of requests and of the audit trail (SPEC §6), streamed: rows are read from the
database in chunks (`.iterator(chunk_size=...)`) and written as they come, so an export of the
whole table never holds it in memory."""

import csv
import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Case, OuterRef, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce, Concat, NullIf, Trim
from django.http import StreamingHttpResponse
from django.utils import timezone

from audit.models import AuditEvent
from intake.models import Billing, PurchaseRequest, State
from vendors.models import Vendor

CHUNK_SIZE = 2000
# Lines handed to the server at a time: fewer, larger writes than one per row.
LINES_PER_WRITE = 200
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection, OWASP).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """A cell a spreadsheet would take for a formula is prefixed with a single quote."""
    return f"'{text}" if text.startswith(FORMULA_TRIGGERS) else text


def cell(value) -> str:
    """One value as CSV text: times in the user's time zone, JSON for structures, neutralised."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        text = timezone.localtime(value).isoformat(timespec="seconds")
    elif isinstance(value, date):
        text = value.isoformat()
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, Decimal):
        text = f"{value:f}"
    elif isinstance(value, dict | list):
        text = json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=True)
    else:
        text = str(value)
    return neutralise(text)


class _Echo:
    """The file csv.writer writes to: it hands each line back instead of storing it."""

    def write(self, line: str) -> str:
        return line


def csv_lines(header: list[str], rows: Iterable[Iterable]) -> Iterator[str]:
    """The header, then the rows a few hundred lines at a time. Starts with a byte order mark so
    that spreadsheet programs read UTF-8."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(header)
    batch = []
    for row in rows:
        batch.append(writer.writerow([cell(value) for value in row]))
        if len(batch) >= LINES_PER_WRITE:
            yield "".join(batch)
            batch = []
    if batch:
        yield "".join(batch)


def csv_response(filename: str, header: list[str], rows: Iterable[Iterable]):
    response = StreamingHttpResponse(
        csv_lines(header, rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def dated(name: str) -> str:
    return f"tandem-{name}-{timezone.localdate():%Y-%m-%d}.csv"


# ---- requests -------------------------------------------------------------------------------

STATE_LABELS = dict(State.choices)
BILLING_LABELS = dict(Billing.choices)


def request_columns() -> list[tuple[str, object]]:
    """(header, field or expression) of each column of the requests export."""
    base = settings.TANDEM_BASE_CURRENCY
    return [
        ("Number", "number"),
        ("Title", "title"),
        ("State", "state"),
        ("Requester", "requester__username"),
        (
            "Requester name",
            Trim(Concat("requester__first_name", Value(" "), "requester__last_name")),
        ),
        ("Department", "department__name"),
        ("Cost centre", "department__cost_centre"),
        ("Category", "category__name"),
        ("Vendor", Coalesce("vendor__name", NullIf("proposed_vendor_name", Value("")))),
        ("Currency", "currency"),
        ("Billing", "billing"),
        ("Term (months)", "term_months"),
        ("Total cost", "total_cost"),
        (f"Total cost ({base})", "total_cost_base"),
        ("Created", "created_at"),
        ("Submitted", "submitted_at"),
        ("Decided", "decided_at"),
        ("PO number", "po_number"),
        ("Ordered on", "ordered_on"),
        ("Received on", "received_on"),
    ]


def request_rows(requests: QuerySet[PurchaseRequest], columns) -> Iterator[list]:
    """The rows of `requests`, read in chunks; states and billing as their labels."""
    rows = (
        requests.prefetch_related(None)
        .order_by("pk")
        .values_list(*(column for _, column in columns))
        .iterator(chunk_size=CHUNK_SIZE)
    )
    labels = {
        i: STATE_LABELS if column == "state" else BILLING_LABELS
        for i, (_, column) in enumerate(columns)
        if column in ("state", "billing")
    }
    for row in rows:
        row = list(row)
        for i, choices in labels.items():
            row[i] = choices.get(row[i], row[i])
        yield row


def export_requests(requests: QuerySet[PurchaseRequest]):
    columns = request_columns()
    return csv_response(
        dated("requests"), [header for header, _ in columns], request_rows(requests, columns)
    )


# ---- audit trail ----------------------------------------------------------------------------

AUDIT_HEADER = [
    "Occurred",
    "Actor",
    "On behalf of",
    "Kind",
    "Object type",
    "Object id",
    "Subject",
    "From state",
    "To state",
    "Details",
]


def _subject_of(app_label: str, model: str, queryset, field: str) -> When:
    name = queryset.filter(pk=OuterRef("object_id")).values(field)[:1]
    return When(content_type__app_label=app_label, content_type__model=model, then=Subquery(name))


def audit_rows(events: QuerySet[AuditEvent]) -> Iterator[tuple]:
    """Every event with its actor, delegator and what it is about (a request's number or a
    vendor's name, looked up in the same query), oldest first, read in chunks."""
    subject = Case(
        _subject_of("intake", "purchaserequest", PurchaseRequest.objects, "number"),
        _subject_of("vendors", "vendor", Vendor.objects, "name"),
        default=Value(""),
    )
    return (
        events.annotate(
            subject_label=subject,
            object_type=Concat("content_type__app_label", Value("."), "content_type__model"),
        )
        .order_by("occurred_at", "pk")
        .values_list(
            "occurred_at",
            "actor__username",
            "on_behalf_of__username",
            "kind",
            "object_type",
            "object_id",
            "subject_label",
            "from_state",
            "to_state",
            "payload",
        )
        .iterator(chunk_size=CHUNK_SIZE)
    )


def export_audit(events: QuerySet[AuditEvent]):
    return csv_response(dated("audit-trail"), AUDIT_HEADER, audit_rows(events))
