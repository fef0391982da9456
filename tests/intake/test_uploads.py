import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from core.uploads import check_upload

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 17
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + b"\x00" * 20


def office_file(kind: str) -> bytes:
    folder = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml"}[kind]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(folder, "<x/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "expected_type"),
    [
        ("quote.pdf", PDF, "application/pdf"),
        ("diagram.png", PNG, "image/png"),
        ("photo.JPG", JPEG, "image/jpeg"),
        ("photo.jpeg", JPEG, "image/jpeg"),
        (
            "spec.docx",
            office_file("docx"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (
            "prices.xlsx",
            office_file("xlsx"),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        ("seats.csv", "name;seats\nDesign;4\nÉquipe;2\n".encode(), "text/csv"),
        ("one-column.csv", b"seats\n4\n5\n", "text/csv"),
    ],
)
def test_accepted_files_are_recognised_by_content(name, content, expected_type):
    checked = check_upload(SimpleUploadedFile(name, content))
    assert checked.content_type == expected_type


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("invoice.pdf", b"MZ\x90\x00\x03" + b"\x00" * 60, "is not a PDF, PNG"),  # an .exe
        ("quote.pdf", PNG, "is not what its name claims"),
        ("quote.png", PDF, "is not what its name claims"),
        ("notes.csv", b"\x00\x01\x02binary", "is not a PDF, PNG"),
        ("archive.zip", office_file("docx")[:0] + b"PK\x03\x04" + b"\x00" * 30, "is not"),
        ("page.html", b"<html><script>alert(1)</script></html>", "is not what its name claims"),
        ("empty.pdf", b"", "is empty"),
    ],
)
def test_refused_files_get_a_clear_reason(name, content, message):
    with pytest.raises(ValidationError, match=message):
        check_upload(SimpleUploadedFile(name, content))


def test_files_over_ten_megabytes_are_refused(settings):
    content = PDF + b"0" * (10 * 1024 * 1024)
    with pytest.raises(ValidationError, match="at most 10.0"):
        check_upload(SimpleUploadedFile("big.pdf", content))
