"""API tokens for people and systems (issue 18 §4): named, scoped (read, write, decide),
expiring, revocable, stored hashed; service accounts; expired or out-of-scope tokens refused."""

import hashlib
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import tokens
from accounts.models import ApiToken, User
from approvals import workflow
from approvals.services import decide_step
from tests.factories import PurchaseRequestFactory

pytestmark = pytest.mark.django_db


def bearer(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_a_person_makes_named_tokens_and_sees_them_without_the_secret(client, requester):
    client.force_login(requester)
    response = client.post(
        "/api/tokens/",
        {"name": "Laptop script", "scopes": ["read"]},
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    token = response.json()["token"]
    assert token.startswith("tdm_")
    client.post(
        "/api/tokens/", {"name": "CI", "scopes": ["read", "write"]}, content_type="application/json"
    )
    listed = client.get("/api/tokens/").json()["results"]
    assert {row["name"] for row in listed} == {"Laptop script", "CI"}
    assert all("token" not in row for row in listed)
    row = ApiToken.objects.get(name="Laptop script")
    assert row.digest == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(ApiToken.objects.values_list())  # only the hash is stored
    assert row.expires_at - timezone.now() > timedelta(days=89)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"scopes": ["read"]}, "name"),
        ({"name": "x", "scopes": []}, "scopes"),
        ({"name": "x", "scopes": ["admin"]}, "scopes"),
        ({"name": "x", "scopes": ["read"], "expires_at": "2000-01-01T00:00:00Z"}, "expires_at"),
        ({"name": "x", "scopes": ["read"], "expires_at": "2099-01-01T00:00:00Z"}, "expires_at"),
        ({"name": "x", "scopes": "read"}, "scopes"),
    ],
)
def test_bad_token_requests_are_400_naming_the_field(client, requester, payload, field):
    client.force_login(requester)
    response = client.post("/api/tokens/", payload, content_type="application/json")
    assert response.status_code == 400
    assert field in response.json()


def test_the_same_name_twice_is_400(client, requester):
    client.force_login(requester)
    for expected in (201, 400):
        response = client.post(
            "/api/tokens/", {"name": "ERP", "scopes": ["read"]}, content_type="application/json"
        )
        assert response.status_code == expected


def test_a_token_cannot_manage_tokens(requester):
    _, token = tokens.create_token(requester, name="all", scopes=["read", "write", "decide"])
    api = bearer(token)
    assert api.get("/api/tokens/").status_code == 403
    assert api.post("/api/tokens/", {"name": "more", "scopes": ["write"]}).status_code == 403


def test_scopes_read_write_and_decide(requester, it_reviewer):
    purchase_request = workflow.submit_request(
        PurchaseRequestFactory(requester=requester), by=requester
    )
    step = purchase_request.steps.get(side="it")
    _, read = tokens.create_token(it_reviewer, name="read", scopes=["read"])
    _, write = tokens.create_token(it_reviewer, name="write", scopes=["read", "write"])
    _, decide = tokens.create_token(it_reviewer, name="decide", scopes=["decide"])
    assert bearer(read).get(f"/api/requests/{purchase_request.pk}/").status_code == 200
    refused = bearer(read).post("/api/requests/", {"title": "x"}, format="json")
    assert refused.status_code == 403 and "'write' scope" in refused.json()["detail"]
    assert bearer(write).post("/api/requests/", {"title": "Mine"}, format="json").status_code == 201
    url = f"/api/steps/{step.pk}/approve/"
    refused = bearer(write).post(url, {"comment": ""}, format="json")
    assert refused.status_code == 403 and "'decide' scope" in refused.json()["detail"]
    assert bearer(decide).get(f"/api/requests/{purchase_request.pk}/").status_code == 403
    assert bearer(decide).post(url, {"comment": "ok"}, format="json").status_code == 200


def test_expired_revoked_and_unknown_tokens_are_401(client, requester):
    row, token = tokens.create_token(
        requester,
        name="short",
        scopes=["read"],
        expires_at=timezone.now() + timedelta(hours=1),
    )
    assert bearer(token).get("/api/requests/").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        response = bearer(token).get("/api/requests/")
        assert response.status_code == 401 and "expired" in response.json()["detail"]
    client.force_login(requester)
    assert client.post(f"/api/tokens/{row.pk}/revoke/").status_code == 200
    assert client.post(f"/api/tokens/{row.pk}/revoke/").status_code == 409
    response = bearer(token).get("/api/requests/")
    assert response.status_code == 401 and "revoked" in response.json()["detail"]
    assert bearer("tdm_nothing_here").get("/api/requests/").status_code == 401
    assert bearer("garbage").get("/api/requests/").status_code == 401
    response = APIClient().get("/api/requests/", HTTP_AUTHORIZATION="Bearer")
    assert response.status_code == 401


def test_other_peoples_tokens_are_404(client, requester, other_requester):
    row, _ = tokens.create_token(other_requester, name="theirs", scopes=["read"])
    client.force_login(requester)
    assert client.get(f"/api/tokens/{row.pk}/").status_code == 404
    assert client.post(f"/api/tokens/{row.pk}/revoke/").status_code == 404
    assert ApiToken.objects.get(pk=row.pk).revoked_at is None


def test_a_service_account_records_orders_with_its_token(procurement, requester, it_reviewer):
    out = StringIO()
    call_command(
        "create_service_account",
        "erp",
        "--group",
        "procurement",
        "--scope",
        "read",
        "--scope",
        "write",
        stdout=out,
    )
    token = out.getvalue().strip().splitlines()[-1]
    erp = User.objects.get(username="erp")
    assert erp.is_service_account and not erp.has_usable_password()
    purchase_request = workflow.submit_request(
        PurchaseRequestFactory(requester=requester), by=requester
    )
    for step in purchase_request.steps.filter(stage=1):
        decide_step(step, by=it_reviewer if step.side == "it" else procurement, decision="approve")
    response = bearer(token).post(
        f"/api/requests/{purchase_request.pk}/mark-ordered/", {"po_number": "PO-9"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["po_number"] == "PO-9"


def test_the_admin_shows_a_new_token_once(client, admin_user, requester):
    client.force_login(admin_user)
    response = client.post(
        "/admin/accounts/apitoken/add/",
        {
            "user": requester.pk,
            "name": "ERP",
            "scopes": ["read", "write"],
            "expires_at": (timezone.now() + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M"),
        },
        follow=True,
    )
    page = response.content.decode()
    assert "copy it now" in page
    token = page.split("for ")[1].split(": ")[1].split(" ")[0]
    assert bearer(token).get("/api/requests/").status_code == 200
    row = ApiToken.objects.get()
    response = client.post(
        "/admin/accounts/apitoken/",
        {"action": "revoke_selected", "_selected_action": [row.pk]},
        follow=True,
    )
    assert "1 token(s) revoked." in response.content.decode()
    assert bearer(token).get("/api/requests/").status_code == 401


def test_the_tokens_page_makes_shows_once_and_revokes(client, requester):
    client.force_login(requester)
    assert 'href="/accounts/api-tokens/"' in client.get("/accounts/out-of-office/").content.decode()
    page = client.post(
        "/accounts/api-tokens/", {"name": "Report script", "scopes": ["read"], "days": "30"}
    ).content.decode()
    assert "Copy your new token now" in page
    token = page.split('<code class="user-select-all text-break">')[1].split("</code>")[0]
    assert bearer(token).get("/api/requests/").status_code == 200
    again = client.get("/accounts/api-tokens/").content.decode()
    assert token not in again and "Report script" in again and "Valid until" in again
    row = ApiToken.objects.get()
    response = client.post(f"/accounts/api-tokens/{row.pk}/revoke/", follow=True)
    assert "is revoked" in response.content.decode()
    assert bearer(token).get("/api/requests/").status_code == 401


def test_the_tokens_page_explains_bad_input(client, requester, other_requester):
    client.force_login(requester)
    page = client.post("/accounts/api-tokens/", {"name": "", "days": "999"}).content.decode()
    assert "This field is required." in page and "less than or equal to 366" in page
    theirs, _ = tokens.create_token(other_requester, name="theirs", scopes=["read"])
    assert client.post(f"/accounts/api-tokens/{theirs.pk}/revoke/").status_code == 404
    client.post("/accounts/api-tokens/", {"name": "dup", "scopes": ["read"], "days": "5"})
    page = client.post(
        "/accounts/api-tokens/", {"name": "dup", "scopes": ["read"], "days": "5"}
    ).content.decode()
    assert "already have a token with this name" in page
