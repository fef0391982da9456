"""Production settings and the production shape (SPEC §9 and §10): `check --deploy` is clean,
secrets come only from the environment, and docker-compose.yml runs PostgreSQL, Redis, web,
worker and exactly one beat, configured by environment variables.

No database or broker is contacted: these run in both passes of .ci/run."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

BASE_DIR = Path(__file__).resolve().parents[2]
# Anything the settings read from the environment, so the test's own environment cannot
# soften (or break) the production settings under test.
SETTINGS_VARIABLES = re.compile(
    r"^(DJANGO_.*|SECRET_KEY|DATABASE_URL|DEBUG|ALLOWED_HOSTS|CSRF_TRUSTED_ORIGINS|SECURE_.*|"
    r"CELERY_.*|EMAIL_.*|CONN_MAX_AGE)$"
)
# Never contacted: `check` without --database runs no database checks.
DATABASE_URL = "postgres://tandem@127.0.0.1:5432/tandem"


def manage(*args: str, **variables: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not SETTINGS_VARIABLES.match(key)}
    env.update(DJANGO_SETTINGS_MODULE="settings.production", **variables)
    return subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_under_production_settings():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY=secrets.token_urlsafe(64),
        DATABASE_URL=DATABASE_URL,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    "variables, missing",
    [
        ({"DATABASE_URL": DATABASE_URL}, "SECRET_KEY"),
        ({"DATABASE_URL": DATABASE_URL, "SECRET_KEY": ""}, "SECRET_KEY"),
        ({"SECRET_KEY": "x" * 64}, "DATABASE_URL"),
    ],
)
def test_production_settings_refuse_to_start_without_secrets_from_the_environment(
    variables, missing
):
    result = manage("check", **variables)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert missing in result.stderr


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())


APPLICATION_SERVICES = ("web", "worker", "beat")


def test_compose_runs_postgres_redis_web_worker_and_beat(compose):
    services = compose["services"]
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")
    for name, service in services.items():
        assert "test" in service.get("healthcheck", {}), f"{name} has no healthcheck"


def _command(service) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else command


# `celery beat`, or a worker with an embedded beat (`--beat`, `-B`).
RUNS_BEAT = re.compile(r"(^|\s)(beat|--beat|-B)(\s|$)")


def test_compose_runs_exactly_one_beat(compose):
    services = compose["services"]
    beats = [name for name, service in services.items() if RUNS_BEAT.search(_command(service))]
    assert beats == ["beat"]
    beat = services["beat"]
    assert re.match(r"celery -A settings (--quiet )?beat", _command(beat))
    assert beat.get("deploy", {}).get("replicas", 1) == 1
    assert beat.get("scale", 1) == 1
    assert re.match(r"celery -A settings (--quiet )?worker", _command(services["worker"]))


def test_compose_web_migrates_then_serves_with_gunicorn(compose):
    command = _command(compose["services"]["web"])
    assert command.index("manage.py migrate") < command.index("gunicorn settings.wsgi")


@pytest.mark.parametrize("name", APPLICATION_SERVICES)
def test_compose_configures_the_application_from_the_environment(compose, name):
    environment = compose["services"][name]["environment"]
    assert isinstance(environment, dict), "environment must be a mapping"
    assert environment["DJANGO_SETTINGS_MODULE"] == "settings.production"
    for variable in ("DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY", "ALLOWED_HOSTS"):
        assert str(environment.get(variable, "")).startswith(f"${{{variable}"), (
            f"{name}: {variable} must come from the environment (${{{variable}...}})"
        )
    for variable in ("CSRF_TRUSTED_ORIGINS", "EMAIL_HOST", "EMAIL_PORT", "EMAIL_HOST_USER",
                     "EMAIL_HOST_PASSWORD", "EMAIL_USE_TLS", "DEFAULT_FROM_EMAIL"):  # fmt: skip
        assert variable in environment, f"{name}: {variable} is not passed through"
    # No secret in the repository: the key has no default, compose refuses to start without it.
    assert re.fullmatch(r"\$\{SECRET_KEY(:?\?[^}]*)?\}", environment["SECRET_KEY"])
    assert re.fullmatch(r"\$\{EMAIL_HOST_PASSWORD(:?-)?\}", environment["EMAIL_HOST_PASSWORD"])
