"""Logs (issue 20): JSON in production, one line per event, with the request id that also
reaches the Celery tasks the request caused; no personal data beyond user ids; Sentry only
when SENTRY_DSN is set, without personal data."""

import json
import os
import re
import secrets
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from core import requestid

BASE_DIR = Path(__file__).resolve().parents[2]
SETTINGS_VARIABLES = re.compile(r"^(DJANGO_.*|SECRET_KEY|DATABASE_URL|SENTRY_.*|LOG_LEVEL)$")


def production_python(code: str, **variables) -> subprocess.CompletedProcess:
    """Runs `code` after django.setup() under production settings (no database is contacted)."""
    env = {key: value for key, value in os.environ.items() if not SETTINGS_VARIABLES.match(key)}
    env.update(
        DJANGO_SETTINGS_MODULE="settings.production",
        SECRET_KEY=secrets.token_urlsafe(50),
        DATABASE_URL="postgres://unused@127.0.0.1:9/unused",
        **variables,
    )
    script = "import django\ndjango.setup()\n" + textwrap.dedent(code)
    return subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "-c", script],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_logs_one_json_line_per_event_with_the_request_id():
    result = production_python(
        """
        import logging
        from core import requestid
        log = logging.getLogger("tandem.test")
        requestid.set("req-42")
        log.info("decided step %s", 7, extra={"user_id": 3})
        try:
            raise ValueError("first line\\nsecond line for eve@example.org")
        except ValueError:
            log.exception("it failed")
        log.warning("mail to bob@example.com refused by smtp")
        """
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    events = [json.loads(line) for line in lines]  # every line is one JSON document
    assert len(events) == 3
    decided, failed, refused = events
    assert decided["message"] == "decided step 7"
    assert decided["level"] == "INFO"
    assert decided["logger"] == "tandem.test"
    assert decided["request_id"] == "req-42"
    assert decided["user_id"] == 3
    assert "time" in decided
    assert failed["message"] == "it failed"
    assert "ValueError: first line\nsecond line for [e-mail]" in failed["exc_info"]
    assert refused["message"] == "mail to [e-mail] refused by smtp"
    assert "bob@example.com" not in result.stdout
    assert "eve@example.org" not in result.stdout


def test_axes_logs_no_username_or_address_in_production():
    result = production_python(
        """
        from axes.helpers import get_client_str
        print(get_client_str("rita", "203.0.113.9", "Firefox", "/accounts/login/", None))
        """
    )
    assert result.returncode == 0, result.stderr
    assert "rita" not in result.stdout and "203.0.113.9" not in result.stdout


def test_sentry_is_initialised_only_with_a_dsn_and_without_personal_data():
    code = """
        import sentry_sdk
        client = sentry_sdk.get_client()
        print(client.is_active(), client.options.get("send_default_pii"))
        """
    result = production_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False None"

    result = production_python(code, SENTRY_DSN="https://public@127.0.0.1:9/1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "True False"


@pytest.mark.django_db
def test_every_response_carries_a_request_id(client):
    response = client.get("/accounts/login/")
    generated = response["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert client.get("/accounts/login/")["X-Request-ID"] != generated
    assert client.get("/healthz")["X-Request-ID"]


@pytest.mark.django_db
def test_a_proxy_request_id_is_honoured_and_a_bad_one_replaced(client):
    response = client.get("/accounts/login/", HTTP_X_REQUEST_ID="proxy-7f3a.1")
    assert response["X-Request-ID"] == "proxy-7f3a.1"
    for bad in ("x" * 200, "has space", 'quote"', "line\nbreak", "é"):
        replaced = client.get("/accounts/login/", HTTP_X_REQUEST_ID=bad)["X-Request-ID"]
        assert re.fullmatch(r"[0-9a-f]{32}", replaced)


@pytest.mark.django_db
def test_the_request_line_names_the_user_by_id_only(client, requester, caplog):
    import logging

    client.force_login(requester)
    with caplog.at_level(logging.INFO, logger="tandem.request"):
        response = client.get("/requests/?q=secret-search", HTTP_X_REQUEST_ID="req-9")
    [line] = [r for r in caplog.records if r.name == "tandem.request"]
    assert line.getMessage() == f"GET /requests/ {response.status_code}"
    assert line.user_id == requester.pk
    assert line.status == response.status_code
    assert "secret-search" not in line.getMessage()
    assert requester.username not in line.getMessage()
    assert requestid.get() is None  # nothing leaks into the next request on this thread


@pytest.mark.django_db
def test_healthchecks_are_not_logged_while_they_pass(client, caplog):
    import logging

    with caplog.at_level(logging.INFO, logger="tandem.request"):
        client.get("/healthz")
        client.get("/readyz")
        client.get("/metrics")  # 404 without a token: logged
    assert [r.getMessage() for r in caplog.records if r.name == "tandem.request"] == [
        "GET /metrics 404"
    ]


def test_a_task_published_during_a_request_carries_its_id():
    """The header Celery sends (settings/celery.py); the worker side is proven with a real
    worker in tests/integration/test_operations_live.py."""
    from settings.celery import _pass_request_id

    token = requestid.set("req-77")
    try:
        headers = {}
        _pass_request_id(headers=headers)
    finally:
        requestid.reset(token)
    assert headers == {requestid.TASK_HEADER: "req-77"}


def test_what_celery_and_python_write_outside_logging_is_json_in_production():
    """Celery's worker and beat set up logging through `setup_logging` (as here): afterwards
    their lines, the pool's errors, stray prints, the worker's shutdown line (written from a
    signal handler, outside logging) and an uncaught exception are all JSON lines. The real
    processes are tested in tests/integration/test_json_logs_live.py."""
    result = production_python(
        """
        import sys, threading
        from billiard.pool import error as pool_error
        from celery import current_app
        from celery.apps import worker
        from celery.utils.log import get_task_logger

        current_app.log.setup(20, redirect_stdouts=True)  # as worker and beat do, at INFO
        current_app.log.get_default_logger().info("celery's own line")
        get_task_logger("notifications.tasks").warning("a task logger's line")
        pool_error("Process %r exited with %r", "ForkPoolWorker-1", "signal 9 (SIGKILL)")
        print("a stray print")
        worker.safe_say("worker: Warm shutdown (MainProcess)", sys.__stdout__)
        crash = threading.Thread(target=lambda: 1 / 0, name="crasher")
        crash.start()
        crash.join()
        raise RuntimeError("uncaught, for bob@example.com")
        """
    )
    assert result.returncode == 1
    assert result.stderr == ""
    events = [json.loads(line) for line in result.stdout.splitlines()]  # every line JSON
    by_message = {event["message"]: event for event in events}
    assert by_message["celery's own line"]["level"] == "INFO"
    assert by_message["a task logger's line"]["logger"] == "notifications.tasks"
    assert by_message["Process 'ForkPoolWorker-1' exited with 'signal 9 (SIGKILL)'"]
    assert by_message["a stray print"]["logger"] == "celery.redirected"
    assert by_message["worker: Warm shutdown (MainProcess)"]["logger"] == "celery.apps.worker"
    thread = by_message["uncaught ZeroDivisionError in thread crasher: division by zero"]
    assert "ZeroDivisionError" in thread["exc_info"]
    uncaught = by_message["uncaught RuntimeError: uncaught, for [e-mail]"]
    assert uncaught["level"] == "CRITICAL"
    assert "bob@example.com" not in result.stdout
