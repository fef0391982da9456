"""Legacy tokens are gone (issue 27, item 14): DRF's unscoped, never-expiring tokens
(`Authorization: Token …`) are refused with a 401 that names the replacement; the ones a
database held became scoped, expiring API tokens with the same secret (migration accounts 0007);
the token endpoint makes scoped, expiring tokens only."""

import importlib
import secrets
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from tests.factories import PurchaseRequestFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "secret-pass-123"
MIGRATION = importlib.import_module("accounts.migrations.0007_legacy_tokens_become_scoped_tokens")


def get(path, authorization):
    return APIClient().get(path, HTTP_AUTHORIZATION=authorization)


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/api/requests/"), ("post", "/api/requests/"), ("get", "/api/tokens/")],
)
def test_a_legacy_token_is_refused_with_the_name_of_its_replacement(method, path, requester):
    key = secrets.token_hex(20)  # what DRF's tokens looked like
    response = getattr(APIClient(), method)(path, HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 401
    detail = response.json()["detail"]
    assert "no longer accepted" in detail
    assert "Authorization: Bearer tdm_" in detail and "/accounts/api-tokens/" in detail
    assert response["WWW-Authenticate"] == "Bearer"


def test_drfs_token_app_and_authentication_are_gone():
    assert "rest_framework.authtoken" not in settings.INSTALLED_APPS
    classes = settings.REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]
    assert "rest_framework.authentication.TokenAuthentication" not in classes


@pytest.fixture
def legacy_table():
    """The table DRF's token app left in databases made before: made here, with two keys."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token "
            "(key varchar(40) PRIMARY KEY, created timestamp NOT NULL, user_id integer NOT NULL)"
        )

    def add(user) -> str:
        key = secrets.token_hex(20)
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO authtoken_token (key, created, user_id) VALUES (%s, %s, %s)",
                [key, timezone.now(), user.pk],
            )
        return key

    return add


def convert():
    MIGRATION.convert_legacy_tokens(apps, SimpleNamespace(connection=connection))


def test_the_migration_turns_each_legacy_token_into_a_scoped_expiring_one(
    legacy_table, requester, it_reviewer
):
    rita_key, ivan_key = legacy_table(requester), legacy_table(it_reviewer)
    gone = UserFactory(username="gone", is_active=False)
    legacy_table(gone)

    convert()

    rita, ivan = (ApiToken.objects.get(user=user) for user in (requester, it_reviewer))
    assert rita.name == "Converted legacy token" and rita.scopes == ["read", "write"]
    assert ivan.scopes == ["read", "write", "decide"]  # a reviewer may decide with it
    for row in (rita, ivan):
        assert timezone.now() + timedelta(days=89) < row.expires_at
        assert row.expires_at < timezone.now() + timedelta(days=91)
    assert not ApiToken.objects.filter(user=gone).exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM authtoken_token")
        assert cursor.fetchone() == (0,)  # no key is kept in plain text

    # The old header is refused; the same secret as a scoped token works, within its scopes.
    assert get("/api/requests/", f"Token {rita_key}").status_code == 401
    converted = f"Bearer {MIGRATION.scoped_token_of(rita_key)}"
    assert get("/api/requests/", converted).status_code == 200
    draft = PurchaseRequestFactory(requester=requester)
    submitted = APIClient().post(f"/api/requests/{draft.pk}/submit/", HTTP_AUTHORIZATION=converted)
    assert submitted.status_code == 200, submitted.content
    step = draft.steps.get(side="it")
    decided = APIClient().post(
        f"/api/steps/{step.pk}/approve/", {}, format="json", HTTP_AUTHORIZATION=converted
    )
    assert decided.status_code == 403 and "'decide' scope" in decided.json()["detail"]
    ivan_converted = f"Bearer {MIGRATION.scoped_token_of(ivan_key)}"
    decided = APIClient().post(
        f"/api/steps/{step.pk}/approve/", {}, format="json", HTTP_AUTHORIZATION=ivan_converted
    )
    assert decided.status_code == 200, decided.content

    convert()  # again: nothing left to convert, nothing doubled
    assert ApiToken.objects.filter(name="Converted legacy token").count() == 2


def test_a_new_database_has_nothing_to_convert(requester):
    convert()
    assert not ApiToken.objects.exists()


def test_the_token_endpoint_makes_scoped_expiring_tokens(requester):
    client = APIClient()
    body = {"username": "rita", "password": PASSWORD}
    response = client.post("/api/auth/token/", body, format="json")
    assert response.status_code == 200
    made = response.json()
    assert made["token"].startswith("tdm_") and made["scopes"] == ["read", "write", "decide"]
    assert made["expires_at"] and made["active"]
    row = ApiToken.objects.get(pk=made["id"])
    assert row.expires_at < timezone.now() + timedelta(days=91)

    narrow = client.post("/api/auth/token/", {**body, "scopes": ["read"]}, format="json").json()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {narrow['token']}")
    assert client.get("/api/requests/").status_code == 200
    refused = client.post("/api/requests/", {}, format="json")
    assert refused.status_code == 403 and "'write' scope" in refused.json()["detail"]

    too_long = {**body, "expires_at": (timezone.now() + timedelta(days=400)).isoformat()}
    response = APIClient().post("/api/auth/token/", too_long, format="json")
    assert response.status_code == 400 and "at most one year" in str(response.json())
    unknown = APIClient().post("/api/auth/token/", {**body, "scopes": ["admin"]}, format="json")
    assert unknown.status_code == 400 and "scopes" in unknown.json()
    wrong = APIClient().post("/api/auth/token/", {**body, "password": "nope"}, format="json")
    assert wrong.status_code == 400 and "token" not in wrong.json()
