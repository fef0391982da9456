"""The page "Import vendors and contracts": upload, the per-row check, the import of the same
file, a done message; bad files are a 400 with a message, never a 500."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.models import AuditEvent
from tests.factories import UserFactory
from vendors.models import Contract, Vendor

URL = reverse("vendors:vendor-import")
HEADER = "vendor,contract,owner,starts_on,ends_on,annual_value"
GOOD = "Figma,Enterprise,olga,2025-01-01,2025-12-31,18000"
BAD = "Miro,Business,ghost,2025-01-01,2025-12-31,9000"


@pytest.fixture
def olga(db, client):
    user = UserFactory(username="olga", roles=["procurement"])
    client.force_login(user)
    return user


def upload(client, *lines, name="vendors.csv", content=None):
    data = content if content is not None else "\n".join([HEADER, *lines]).encode()
    return client.post(URL, {"file": SimpleUploadedFile(name, data, "text/csv")})


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_the_vendor_list_links_to_the_import_for_those_who_manage_vendors(client, olga):
    page = client.get(reverse("vendors:vendor-list"))
    assert f'href="{URL}"' in page.content.decode()
    assert client.get(URL).status_code == 200


def test_the_import_is_forbidden_to_those_who_may_not_manage_vendors(client, db):
    client.force_login(UserFactory(roles=["finance"]))
    assert client.get(URL).status_code == 403
    assert upload(client, GOOD).status_code == 403


def test_a_file_with_a_bad_row_shows_each_row_and_offers_no_import(client, olga):
    response = upload(client, GOOD, BAD)
    assert response.status_code == 200
    page = text(response)
    assert "1 row is refused" in page
    assert "New vendor Figma; New contract “Enterprise”" in page
    assert "no person “ghost” (give a username or e-mail address)" in page
    assert 'name="token"' not in page
    assert not Vendor.objects.exists()


def test_the_checked_file_is_imported_with_the_import_button(client, olga):
    checked = upload(client, GOOD)
    assert "Will import 1 new and 0 changed vendors, 1 new and 0 changed contracts." in text(
        checked
    )
    assert not Vendor.objects.exists()  # the check writes nothing
    token = checked.context["token"]
    done = client.post(URL, {"token": token}, follow=True)
    assert done.redirect_chain[-1][0] == reverse("vendors:vendor-list")
    assert "Imported 1 new and 0 changed vendors, 1 new and 0 changed contracts." in text(done)
    contract = Contract.objects.get()
    assert (contract.vendor.name, contract.owner) == ("Figma", olga)
    assert AuditEvent.objects.filter(actor=olga).count() == 2


def test_an_import_token_changed_or_of_someone_else_is_refused(client, olga):
    token = upload(client, GOOD).context["token"]
    tampered = client.post(URL, {"token": token[:-2] + "xx"})
    assert tampered.status_code == 400
    assert "choose the file again" in text(tampered)
    client.force_login(UserFactory(username="ivan", roles=["it_reviewers"]))
    assert client.post(URL, {"token": token}).status_code == 400
    assert not Vendor.objects.exists()


def test_a_file_whose_rows_no_longer_hold_is_checked_again_and_not_imported(client, olga):
    carl = UserFactory(username="carl", roles=["finance"])
    token = upload(client, "Figma,Enterprise,carl,2025-01-01,2025-12-31,18000").context["token"]
    carl.is_active = False  # the owner left between the check and the import
    carl.save()
    response = client.post(URL, {"token": token})
    page = text(response)
    assert "Nothing was imported: the vendors changed since the check." in page
    assert f"{carl} no longer uses Tandem: choose another owner." in page
    assert not Vendor.objects.exists()


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("vendors.csv", b"", "The submitted file is empty."),
        ("vendors.csv", b"\x89PNG\r\n\x1a\n\x00\xff\xfe\x00", "neither an XLSX workbook"),
        ("vendors.xlsx", b"PK\x03\x04not really a workbook", "not a readable XLSX workbook"),
        ("vendors.csv", b"name,price\nFigma,1\n", "Unknown columns: name, price."),
    ],
)
def test_a_bad_file_is_a_400_with_its_reason(client, olga, name, content, message):
    response = upload(client, name=name, content=content)
    assert response.status_code == 400
    assert message in text(response)
