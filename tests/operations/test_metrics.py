"""/metrics (issue 20): Prometheus text behind a bearer token, django-prometheus's figures and
Tandem's gauges computed at the scrape."""

import math
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from approvals import workflow
from approvals.models import ApprovalStep, StepState
from approvals.tasks import sweep_reminders
from notifications.models import Channel, Notification, Status
from tests.factories import PurchaseRequestFactory, UserFactory
from tests.operations.metrics_text import parse, value

pytestmark = pytest.mark.django_db

TOKEN = "s3cret-metrics-token"


@pytest.fixture(autouse=True)
def _token(settings):
    settings.METRICS_TOKEN = TOKEN


def scrape(client, **extra):
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", **extra)
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    return parse(response.content.decode())


def test_metrics_are_not_served_without_a_configured_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer wrong", f"Token {TOKEN}", f"Basic {TOKEN}", "Bearer é"],
)
def test_metrics_need_the_bearer_token(client, authorization):
    extra = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
    response = client.get("/metrics", **extra)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"tandem_" not in response.content


def test_a_signed_in_admin_still_needs_the_token(client, admin_user):
    client.force_login(admin_user)
    assert client.get("/metrics").status_code == 401


def test_metrics_include_django_prometheus_request_counters(client):
    client.get("/accounts/login/")
    samples = scrape(client)
    assert any(name == "django_http_requests_total_by_method_total" for name, _ in samples)
    assert any(name.startswith("django_http_responses_total_by_status") for name, _ in samples)


@pytest.mark.usefixtures("group_items_at_once")  # e-mails in the outbox, not in a digest
def test_tandem_gauges_count_requests_steps_and_outbox(client, requester, it_reviewer, procurement):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(2):
            workflow.submit_request(PurchaseRequestFactory(requester=requester), by=requester)
        PurchaseRequestFactory(requester=requester)  # a draft
    open_steps = ApprovalStep.objects.filter(state=StepState.OPEN)
    sla = {step.side: step.due_at for step in open_steps}

    with time_machine.travel(start + timedelta(minutes=1), tick=False):
        samples = scrape(client)
    assert value(samples, "tandem_requests", state="in_review") == 2
    assert value(samples, "tandem_requests", state="draft") == 1
    assert value(samples, "tandem_requests", state="closed") == 0
    for side in ("it", "procurement"):
        expected = open_steps.filter(side=side).count()
        assert expected > 0
        assert value(samples, "tandem_steps_open", side=side) == expected
        assert value(samples, "tandem_steps_overdue", side=side) == 0
    assert value(samples, "tandem_steps_open", side="finance") == 0

    # The e-mails to the reviewers wait in the outbox (this test's transaction never commits,
    # so nothing hands them to Celery), written a minute before the scrape.
    pending = Notification.objects.filter(status=Status.PENDING).count()
    assert pending > 0
    assert value(samples, "tandem_outbox_notifications", status="pending") == pending
    assert value(samples, "tandem_outbox_notifications", status="gave_up") == 0
    assert value(samples, "tandem_outbox_oldest_pending_age_seconds") == pytest.approx(60, abs=1)
    assert value(samples, "tandem_broker_up") == 1
    assert ("tandem_celery_queue_length", (("queue", "celery"),)) in samples

    # Past the later SLA, every open step is overdue.
    with time_machine.travel(max(sla.values()) + timedelta(minutes=1), tick=False):
        samples = scrape(client)
    for side in ("it", "procurement"):
        assert (
            value(samples, "tandem_steps_overdue", side=side)
            == open_steps.filter(side=side).count()
        )


def test_outbox_gauges_and_the_age_of_the_oldest_waiting_notification(client):
    user = UserFactory()
    written = timezone.now()
    with time_machine.travel(written, tick=False):
        for status in (Status.PENDING, Status.PENDING, Status.FAILED, Status.GAVE_UP):
            Notification.objects.create(
                recipient=user, channel=Channel.EMAIL, subject="s", body="b", url="/",
                status=status,
            )  # fmt: skip
    with time_machine.travel(written + timedelta(seconds=90), tick=False):
        samples = scrape(client)
    assert value(samples, "tandem_outbox_notifications", status="pending") == 2
    assert value(samples, "tandem_outbox_notifications", status="failed") == 1
    assert value(samples, "tandem_outbox_notifications", status="gave_up") == 1
    assert value(samples, "tandem_outbox_notifications", status="sending") == 0
    assert value(samples, "tandem_outbox_oldest_pending_age_seconds") == pytest.approx(90, abs=1)


def test_audit_events_waiting_for_their_seal_and_the_age_of_the_oldest(client, requester):
    from audit.sealer import seal_pending
    from intake import services

    written = timezone.now()
    with time_machine.travel(written, tick=False):
        services.add_comment(PurchaseRequestFactory(requester=requester), by=requester, body="x")
    with time_machine.travel(written + timedelta(seconds=45), tick=False):
        samples = scrape(client)
    assert value(samples, "tandem_audit_unsealed_events") == 1
    assert value(samples, "tandem_audit_oldest_unsealed_age_seconds") == pytest.approx(45, abs=1)
    seal_pending()
    samples = scrape(client)
    assert value(samples, "tandem_audit_unsealed_events") == 0
    assert value(samples, "tandem_audit_oldest_unsealed_age_seconds") == 0


def test_seconds_since_the_last_completed_sweep(client):
    samples = scrape(client)
    assert math.isinf(value(samples, "tandem_sweep_last_completed_age_seconds"))
    assert value(samples, "tandem_sweep_interval_seconds") == 300

    swept = timezone.now()
    with time_machine.travel(swept, tick=False):
        sweep_reminders.delay()
    with time_machine.travel(swept + timedelta(minutes=7), tick=False):
        samples = scrape(client)
    assert value(samples, "tandem_sweep_last_completed_age_seconds") == pytest.approx(420, abs=1)


def test_a_scrape_runs_the_same_number_of_queries_however_much_data(
    client, requester, django_assert_max_num_queries
):
    workflow.submit_request(PurchaseRequestFactory(requester=requester), by=requester)
    with django_assert_max_num_queries(10) as few:
        scrape(client)
    for _ in range(5):
        workflow.submit_request(PurchaseRequestFactory(requester=requester), by=requester)
    with django_assert_max_num_queries(len(few.captured_queries)):
        scrape(client)


@pytest.mark.redis
def test_queue_length_and_broker_state_come_from_the_broker(client, broker_at):
    from settings.celery import app

    with app.connection_for_write() as connection:
        producer = connection.Producer()
        for n in range(3):
            producer.publish({"n": n}, routing_key="celery", declare=[])
    samples = scrape(client)
    assert value(samples, "tandem_celery_queue_length", queue="celery") == 3
    assert value(samples, "tandem_broker_up") == 1

    broker_at.stop()
    samples = scrape(client)
    assert value(samples, "tandem_broker_up") == 0
    assert ("tandem_celery_queue_length", (("queue", "celery"),)) not in samples
    # The database figures are still there.
    assert value(samples, "tandem_requests", state="draft") == 0
