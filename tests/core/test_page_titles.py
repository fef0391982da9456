"""Every page has a favicon and a title of its own (issue 14, item 11)."""

import re

import pytest

from tests.factories import PurchaseRequestFactory, VendorFactory

pytestmark = pytest.mark.django_db


def title(response) -> str:
    return re.search(r"<title>(.*?)</title>", response.content.decode(), re.S).group(1).strip()


def test_every_page_has_its_own_title_and_the_favicon(client, admin_user):
    purchase_request = PurchaseRequestFactory(requester=admin_user, title="Figma seats")
    vendor = VendorFactory(name="Acme Analytics")
    client.force_login(admin_user)
    pages = {
        "/requests/": "My requests · Tandem",
        "/requests/new/": "New request · Tandem",
        purchase_request.get_absolute_url(): f"{purchase_request.number} Figma seats · Tandem",
        f"{purchase_request.get_absolute_url()}edit/": f"Edit {purchase_request.number} · Tandem",
        "/approvals/": "Waiting for me · Tandem",
        "/approvals/rules/preview/": "Rule preview · Tandem",
        "/vendors/": "Vendors · Tandem",
        "/vendors/new/": "New vendor · Tandem",
        vendor.get_absolute_url(): "Acme Analytics · Tandem",
        "/insights/": "Insights · Tandem",
        "/notifications/": "Notifications · Tandem",
        "/accounts/out-of-office/": "Out of office · Tandem",
        "/requests/999999/": "Page not found · Tandem",
    }
    titles = {}
    for url, expected in pages.items():
        response = client.get(url)
        assert response.status_code in (200, 404), url
        assert title(response) == expected, url
        assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in (
            response.content.decode()
        ), url
        titles[url] = title(response)
    assert len(set(titles.values())) == len(titles)


def test_the_sign_in_page_has_a_title_and_the_favicon(client):
    response = client.get("/accounts/login/")
    assert title(response) == "Sign in · Tandem"
    assert 'rel="icon"' in response.content.decode()


def test_favicon_ico_leads_to_the_icon_signed_in_or_not(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response.url == "/static/favicon.svg"


def test_not_found_page_offers_a_way_on(client, requester):
    client.force_login(requester)
    response = client.get("/requests/999999/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "This page does not exist" in page and 'href="/"' in page


def test_forbidden_page_says_why(client, requester, other_requester):
    client.force_login(requester)
    response = client.get("/approvals/rules/preview/")
    assert response.status_code == 403
    assert title(response) == "Not allowed · Tandem"
    assert "Only admins and reviewers preview routing." in response.content.decode()
