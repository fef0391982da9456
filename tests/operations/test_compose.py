"""docker-compose.yml (issue 20): every service has a healthcheck, the application's use
/readyz and the health commands, and each waits for what it needs to be healthy. Compose cannot
run here: the file is parsed, and the commands are run for real in
tests/integration/test_operations_live.py."""

from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands

BASE_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def services():
    return yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())["services"]


def _test(service) -> str:
    test = service["healthcheck"]["test"]
    return " ".join(test) if isinstance(test, list) else test


def test_every_service_has_a_healthcheck(services):
    for name, service in services.items():
        assert _test(service), f"{name} has no healthcheck"
        assert service["healthcheck"].get("interval"), f"{name}: no interval"


def test_web_is_healthy_when_ready(services):
    """Ready is what web needs to serve (/readyz); the whole system's health (/healthz/deep)
    is for monitoring, never a healthcheck that takes web out of service."""
    assert "http://127.0.0.1:8000/readyz" in _test(services["web"])
    for name, service in services.items():
        assert "/healthz/deep" not in _test(service), name


def test_the_audit_sealer_takes_its_own_queue_and_answers_its_health_command(services):
    """The sealer (audit.sealer) runs on the `audit` queue, which the seal task is routed to."""
    from django.conf import settings

    command = services["sealer"]["command"]
    assert command[command.index("-Q") + 1] == "audit"
    assert settings.CELERY_TASK_ROUTES["audit.tasks.seal_chain"] == {"queue": "audit"}
    assert "audit" in {queue.name for queue in settings.CELERY_TASK_QUEUES}
    assert _test(services["sealer"]) == (
        "CMD-SHELL python manage.py check_worker --node sealer@$$HOSTNAME --timeout 10"
    )


def test_worker_and_beat_use_their_health_commands(services):
    assert _test(services["worker"]).startswith("CMD python manage.py check_worker")
    assert _test(services["beat"]).startswith("CMD python manage.py check_beat")
    assert {"check_worker", "check_beat", "check_ready", "check_alerts"} <= set(get_commands())


@pytest.mark.parametrize(
    "name, needs",
    [
        ("web", {"postgres", "redis"}),
        ("worker", {"postgres", "redis", "web"}),
        ("beat", {"postgres", "redis", "web"}),
        ("sealer", {"postgres", "redis", "web"}),
    ],
)
def test_services_start_once_what_they_need_is_healthy(services, name, needs):
    depends_on = services[name]["depends_on"]
    assert set(depends_on) == needs
    for dependency, condition in depends_on.items():
        assert condition == {"condition": "service_healthy"}, f"{name} → {dependency}"


def test_operations_settings_come_from_the_environment(services):
    for name in ("web", "worker", "beat"):
        environment = services[name]["environment"]
        assert environment["METRICS_TOKEN"] == "${METRICS_TOKEN:-}"
        assert environment["SENTRY_DSN"] == "${SENTRY_DSN:-}"
        assert environment["TANDEM_ALERT_WEBHOOK_URL"] == "${TANDEM_ALERT_WEBHOOK_URL:-}"
    assert services["web"]["environment"]["PROMETHEUS_MULTIPROC_DIR"].startswith("/tmp/")
