"""Upload checks shared by request attachments and vendor certificates: at most 10 MB, and only
PDF, PNG, JPEG, DOCX, XLSX or CSV, recognised by the file's content, not by its name."""

import csv
import io
from dataclasses import dataclass
from pathlib import PurePath

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat

CSV_TYPE = "text/csv"
# Content type recognised from the bytes -> file name extensions that may carry it.
ALLOWED_TYPES = {
    "application/pdf": {".pdf"},
    "image/png": {".png"},
    "image/jpeg": {".jpg", ".jpeg"},
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {".docx"},
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {".xlsx"},
    CSV_TYPE: {".csv"},
}
ALLOWED_LABEL = "PDF, PNG, JPEG, DOCX, XLSX or CSV"
SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True)
class CheckedUpload:
    name: str
    content_type: str
    size: int


def check_upload(uploaded_file) -> CheckedUpload:
    """Returns what the file really is, or raises ValidationError saying why it is refused."""
    limit = settings.TANDEM_MAX_UPLOAD_BYTES
    if uploaded_file.size > limit:
        raise ValidationError(
            f"“{uploaded_file.name}” is {filesizeformat(uploaded_file.size)}; "
            f"files may be at most {filesizeformat(limit)}."
        )
    if uploaded_file.size == 0:
        raise ValidationError(f"“{uploaded_file.name}” is empty.")
    uploaded_file.seek(0)
    head = uploaded_file.read(SNIFF_BYTES)
    uploaded_file.seek(0)
    content_type = _recognise(head)
    extension = PurePath(uploaded_file.name).suffix.lower()
    if content_type is None:
        raise ValidationError(
            f"“{uploaded_file.name}” is not a {ALLOWED_LABEL} file (checked by its content)."
        )
    if extension not in ALLOWED_TYPES[content_type]:
        raise ValidationError(
            f"“{uploaded_file.name}” is not what its name claims: its content is "
            f"{content_type}, which may not be named “{extension or 'without extension'}”."
        )
    return CheckedUpload(
        name=uploaded_file.name, content_type=content_type, size=uploaded_file.size
    )


def _recognise(head: bytes) -> str | None:
    kind = filetype.guess(head)
    if kind is not None:
        return kind.mime if kind.mime in ALLOWED_TYPES else None
    return CSV_TYPE if _looks_like_csv(head) else None


def _looks_like_csv(head: bytes) -> bool:
    """Plain UTF-8 text without control bytes whose first lines parse as delimited rows."""
    if b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError:
        # The sniffed window may end inside a multi-byte character.
        try:
            text = head[:-3].decode("utf-8-sig")
        except UnicodeDecodeError:
            return False
    if any(ord(c) < 32 and c not in "\r\n\t" for c in text):
        return False
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    if not lines:
        return False
    try:
        dialect = csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t")
    except csv.Error:
        # A single column has no delimiter to find; one value per line is still CSV.
        return all("," not in line for line in lines)
    return bool(list(csv.reader(io.StringIO("\n".join(lines)), dialect)))
