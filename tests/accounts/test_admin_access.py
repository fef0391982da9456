"""The admin for administrators only (issue 27, item 4): a signed-in person the admin does not
let in gets a 403 page that says who can help, never Django's sign-in loop; anonymous visitors
go to the sign-in page; no page shown to anyone else links into the admin."""

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from accounts import roles
from approvals.models import ApprovalRule
from tests.factories import PurchaseRequestFactory, UserFactory

pytestmark = pytest.mark.django_db

ADMIN_ADDRESSES = [
    "/admin/",
    "/admin/login/",
    "/admin/login/?next=/admin/budgets/budget/",
    "/admin/budgets/budget/",
    "/admin/approvals/approvalrule/",
    "/admin/approvals/approvalrule/1/change/",
    "/admin/auth/group/add/",
    "/admin/password_change/",
    "/admin/no-such-page/",
]
NOT_STAFF = {
    "requester": [],
    "finance": [roles.FINANCE],
    "cio": [roles.CIO],
    "procurement": [roles.PROCUREMENT],
}
REFUSAL = "This part of Tandem is for its administrators"
ADMIN_LINK = re.compile(r"""href\s*=\s*["']?(?:https?://[^/"']+)?/admin""", re.IGNORECASE)


@pytest.fixture
def ada(db):
    return UserFactory(
        username="ada",
        first_name="Ada",
        last_name="Admin",
        email="ada@tandem.example",
        is_staff=True,
        is_superuser=True,
    )


@pytest.mark.parametrize("address", ADMIN_ADDRESSES)
@pytest.mark.parametrize("role", NOT_STAFF)
def test_a_signed_in_person_who_is_not_staff_gets_a_403_that_names_who_can_help(
    client, ada, role, address
):
    client.force_login(UserFactory(username=f"not-staff-{role}", roles=NOT_STAFF[role]))
    response = client.get(address)
    html = response.content.decode()
    assert response.status_code == 403
    assert "Location" not in response
    assert REFUSAL in html
    assert "Ada Admin" in html and 'href="mailto:ada@tandem.example"' in html
    assert not ADMIN_LINK.search(html)


def test_with_no_administrator_to_name_the_page_says_whom_to_ask(client):
    client.force_login(UserFactory(username="rita"))
    html = client.get("/admin/").content.decode()
    assert "ask your Tandem administrator" in html


def test_signing_in_with_an_admin_address_to_go_back_to_ends_on_the_403_page(client, ada):
    """The loop of old: /admin/ → /admin/login/ → the sign-in page, which sends a signed-in
    person back to /admin/. The test client raises RedirectCycleError on a loop."""
    client.force_login(UserFactory(username="rita"))
    response = client.get("/accounts/login/?next=/admin/budgets/budget/", follow=True)
    assert response.status_code == 403
    assert REFUSAL in response.content.decode()
    assert len(response.redirect_chain) <= 1


@pytest.mark.parametrize(
    "address", ["/admin/", "/admin/budgets/budget/", "/admin/approvals/approvalrule/"]
)
def test_staff_open_the_admin(client, ada, address):
    client.force_login(ada)
    response = client.get(address)
    assert response.status_code == 200
    assert REFUSAL not in response.content.decode()


@pytest.mark.parametrize(
    ("address", "next_page"),
    [
        ("/admin/", "/admin/"),
        ("/admin/budgets/budget/", "/admin/budgets/budget/"),
        ("/admin/login/?next=/admin/budgets/budget/", "/admin/budgets/budget/"),
    ],
)
def test_anonymous_visitors_go_to_the_sign_in_page_once(client, address, next_page):
    response = client.get(address, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain, "no redirect to the sign-in page"
    final, _ = response.redirect_chain[-1]
    assert final.startswith("/accounts/login/")
    assert response.context["next"] == next_page
    assert len(response.redirect_chain) <= 2


def _pages_without_parameters(resolver=None, prefix="") -> list[str]:
    """Every address the app routes that takes no parameter, outside the admin, the API and
    the sign-in machinery."""
    resolver = resolver or get_resolver()
    addresses = []
    for entry in resolver.url_patterns:
        route = str(entry.pattern)
        if "<" in route or route.startswith("^"):
            continue
        path = prefix + route
        if path.startswith(("admin/", "api/", "auth/", "accounts/login", "accounts/logout")):
            continue
        if isinstance(entry, URLResolver):
            addresses.extend(_pages_without_parameters(entry, path))
        elif isinstance(entry, URLPattern):
            addresses.append("/" + path)
    return sorted(set(addresses))


@pytest.mark.parametrize("role", NOT_STAFF)
def test_no_page_shown_to_someone_who_is_not_staff_links_into_the_admin(ada, role):
    user = UserFactory(username=f"not-staff-{role}", roles=NOT_STAFF[role])
    request = PurchaseRequestFactory(requester=user)
    rule = ApprovalRule.objects.order_by("pk").first()
    client = Client(raise_request_exception=False)
    client.force_login(user)
    addresses = [
        *_pages_without_parameters(),
        request.get_absolute_url(),
        f"/requests/{request.pk}/edit/",
        f"/vendors/{request.vendor_id}/",
        f"/approvals/rules/preview/?rule={rule.pk}",
        "/admin/",
    ]
    assert "/budgets/import/" in addresses and "/requests/new/" in addresses
    checked = 0
    for address in addresses:
        response = client.get(address)
        if not response.get("Content-Type", "").startswith("text/html") or response.streaming:
            continue
        checked += 1
        assert not ADMIN_LINK.search(response.content.decode()), f"{address} as {role}"
    assert checked > 10


def test_the_pages_that_link_into_the_admin_still_do_for_staff(client, ada):
    """The other side of the test above: for an administrator, the menu and the budget import
    page link into the admin (so the test above can tell a link when it sees one)."""
    client.force_login(ada)
    html = client.get("/budgets/import/").content.decode()
    assert 'href="/admin/budgets/budget/"' in html
    assert 'href="/admin/"' in html
