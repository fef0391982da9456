"""The browsable API in a browser: its filter form asks for a related object by id and its
other forms list at most HTML_SELECT_CUTOFF of them, never every vendor (with thousands, a page
of requests was hundreds of kilobytes of options)."""

import re

import pytest
from django.conf import settings

from tests.factories import VendorFactory

pytestmark = pytest.mark.django_db


def test_the_requests_page_in_a_browser_lists_no_vendor_to_choose_from(client, requester):
    vendors = VendorFactory.create_batch(60)
    client.force_login(requester)
    page = client.get("/api/requests/", HTTP_ACCEPT="text/html")
    assert page.status_code == 200
    html = page.content.decode()
    listed = [vendor for vendor in vendors if f"{vendor.name}</option>" in html]
    assert listed  # the new request form lists the first few
    assert len(listed) <= settings.REST_FRAMEWORK["HTML_SELECT_CUTOFF"] < len(vendors)
    assert re.search(r'<input type="number" name="vendor"[^>]*>', html)
    filtered = client.get(f"/api/requests/?vendor={vendors[0].pk}", HTTP_ACCEPT="text/html")
    assert filtered.status_code == 200
    refused = client.get("/api/requests/?vendor=abc", HTTP_ACCEPT="application/json")
    assert refused.status_code == 400
    assert "vendor" in refused.json()
