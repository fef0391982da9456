"""The database not answering is a 503 "briefly unavailable" with Retry-After (issue 30), on
pages and, as JSON, in the API; never a bare 500. Here the database's connection refuses every
query, as a stopped PostgreSQL does; tests/security/test_faults.py stops a real (private)
PostgreSQL under gunicorn."""

import pytest
from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import Client

from core.http import RETRY_AFTER_SECONDS, server_error

pytestmark = pytest.mark.django_db

MESSAGE = "Tandem is briefly unavailable; nothing you sent was lost."


@pytest.fixture
def database_down(monkeypatch):
    def refuse(self, *args, **kwargs):
        raise OperationalError("connection refused")

    def down():
        monkeypatch.setattr(BaseDatabaseWrapper, "cursor", refuse)

    return down


def _client(user=None):
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.parametrize(
    "method, path", [("GET", "/requests/"), ("GET", "/approvals/"), ("POST", "/requests/new/")]
)
def test_a_page_says_briefly_unavailable_with_retry_after(database_down, requester, method, path):
    client = _client(requester)
    database_down()
    response = client.generic(method, path)
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    page = response.content.decode()
    assert "Tandem is briefly unavailable" in page
    assert "nothing you sent was lost" in page
    assert "Traceback" not in page and "OperationalError" not in page
    # The usual headers still apply.
    assert response["X-Frame-Options"] == "DENY"
    assert "Content-Security-Policy" in response


def test_the_sign_in_page_says_briefly_unavailable_when_it_cannot_sign_in(database_down):
    client = _client()
    database_down()
    response = client.post("/accounts/login/", {"username": "rita", "password": "x"})
    assert response.status_code == 503
    assert "Tandem is briefly unavailable" in response.content.decode()


@pytest.mark.parametrize(
    "method, path",
    [("GET", "/api/requests/"), ("POST", "/api/requests/"), ("POST", "/api/requests/1/submit/")],
)
def test_the_api_answers_json_503_with_retry_after(database_down, api, requester, method, path):
    api.as_user(requester)
    api.raise_request_exception = False
    database_down()
    response = api.generic(method, path, "{}", content_type="application/json")
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"].startswith(MESSAGE)


def test_another_error_is_still_the_500_page(rf):
    try:
        raise RuntimeError("a bug")
    except RuntimeError:
        response = server_error(rf.get("/requests/"))
    assert response.status_code == 500
    assert "Retry-After" not in response


def test_a_database_error_raised_while_handling_another_is_recognised(rf):
    try:
        try:
            raise OperationalError("server closed the connection")
        except OperationalError as error:
            raise ValueError("while reading the session") from error
    except ValueError:
        response = server_error(rf.get("/requests/"))
    assert response.status_code == 503
