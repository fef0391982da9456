"""A stalled broker never holds a web worker (issue 30). Redis, as broker and cache, is frozen
with SIGSTOP (a network partition looks like this: connections open, nothing answers) under a
submit, a decision and page views: each answers within DEADLINE with its outcome, because every
publish and cache call gives up after a second or less (settings.base) and a failed publish
after the commit is left to the outbox (core.tasks). Once Redis thaws, the periodic delivery
sends what waited, and publishing resumes.

The Redis is private (tests/support/private_redis.py); Celery runs for real here (not eagerly),
publishing to it."""

import time

import pytest
from celery import current_app
from django.core import mail
from kombu import pools

from approvals.models import ApprovalStep, StepState
from core import tasks as core_tasks
from intake.models import State
from notifications.models import Channel, Notification, Status
from notifications.tasks import deliver_pending
from operations import health
from settings.base import redis_cache
from tests.factories import PurchaseRequestFactory

# The reviewers hear of their group's new items at once (the default is the daily digest): the
# e-mails followed here are written as each step opens.
pytestmark = [
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("group_items_at_once"),
]

DEADLINE = 3.0  # seconds: an answer, whatever Redis does
BROKER_DB, CACHE_DB = 0, 1


def _forget_broker_connections(app):
    """Publishing connects afresh, to the broker the configuration names now: kombu keeps its
    connection and producer pools per process."""
    pools.reset()
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def on_private_redis(private_redis, settings):
    """Celery publishes (not eagerly) to the private Redis, and the cache is kept there."""
    app = current_app
    previous = (app.conf.broker_url, app.conf.task_always_eager)
    settings.CACHES = {"default": redis_cache(private_redis.url(CACHE_DB))}
    app.conf.broker_url = private_redis.url(BROKER_DB)
    app.conf.task_always_eager = False
    _forget_broker_connections(app)
    yield private_redis
    app.conf.broker_url, app.conf.task_always_eager = previous
    _forget_broker_connections(app)


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def test_the_broker_timeouts_are_short_and_a_publish_is_not_retried():
    options = current_app.conf.broker_transport_options
    assert 0 < options["socket_timeout"] <= 2
    assert 0 < options["socket_connect_timeout"] <= 2
    assert 0 < current_app.conf.broker_connection_timeout <= 2
    assert current_app.conf.task_publish_retry_policy["max_retries"] == 0
    cache_options = redis_cache("redis://127.0.0.1:1/0")["OPTIONS"]
    assert 0 < cache_options["SOCKET_TIMEOUT"] <= 2
    assert 0 < cache_options["SOCKET_CONNECT_TIMEOUT"] <= 2
    assert cache_options["IGNORE_EXCEPTIONS"] is True


def test_a_frozen_redis_holds_no_submit_decision_or_page_and_the_outbox_delivers_after(
    on_private_redis, api, client, requester, it_reviewer
):
    redis_server = on_private_redis
    purchase = PurchaseRequestFactory(requester=requester)
    # Redis answers: a submit's e-mails are published at once.
    warm = PurchaseRequestFactory(requester=requester)
    assert api.as_user(requester).post(f"/api/requests/{warm.pk}/submit/").status_code == 200
    queued = health.queue_length()
    assert queued and queued > 0
    client.force_login(it_reviewer)

    with redis_server.frozen():
        # The submit commits, its publish times out, the user sees success.
        response, elapsed = timed(
            lambda: api.as_user(requester).post(f"/api/requests/{purchase.pk}/submit/")
        )
        assert response.status_code == 200, response.content
        assert response.json()["state"] == State.IN_REVIEW
        assert elapsed < DEADLINE, f"the submit took {elapsed:.1f}s"

        # The decision (a rejection e-mails the requester), trying the broker afresh rather
        # than skipping it after the submit's failure.
        core_tasks.BROKER.reset()
        step = ApprovalStep.objects.get(request=purchase, side="it", state=StepState.OPEN)
        response, elapsed = timed(
            lambda: api.as_user(it_reviewer).post(
                f"/api/steps/{step.pk}/reject/", {"comment": "Not this year."}, format="json"
            )
        )
        assert response.status_code == 200, response.content
        assert response.json()["state"] == StepState.REJECTED
        assert elapsed < DEADLINE, f"the decision took {elapsed:.1f}s"
        assert core_tasks.BROKER.active(), "the decision's publish was tried and failed"

        # Pages that read and write the cache.
        for path in ("/approvals/", f"/requests/{purchase.pk}/", "/notifications/"):
            response, elapsed = timed(lambda path=path: client.get(path))
            assert response.status_code == 200, path
            assert elapsed < DEADLINE, f"{path} took {elapsed:.1f}s"
        assert purchase.title in client.get(f"/requests/{purchase.pk}/").content.decode()

        # Nothing was lost: the e-mails the submit and the decision wrote wait in the outbox.
        waiting = Notification.objects.filter(
            channel=Channel.EMAIL, status=Status.PENDING, body__contains=purchase.title
        )
        waited = waiting.count()
        assert waited >= 2  # the reviewer's "for your decision", the requester's "rejected"
        mail.outbox.clear()

    # Redis thaws: the periodic delivery (what beat runs on a worker every minute) sends them.
    assert deliver_pending() >= waited
    assert not Notification.objects.filter(
        channel=Channel.EMAIL,
        status__in=[Status.PENDING, Status.SENDING, Status.FAILED],
        body__contains=purchase.title,
    ).exists()
    subjects = [message.subject for message in mail.outbox]
    assert any(purchase.title in subject and "rejected" in subject for subject in subjects)
    assert any(
        purchase.title in message.body
        for message in mail.outbox
        if message.to == [it_reviewer.email]
    )

    # Publishing resumes once the pause after the failure is over.
    core_tasks.BROKER.reset()
    before = health.queue_length()
    third = PurchaseRequestFactory(requester=requester)
    assert api.as_user(requester).post(f"/api/requests/{third.pk}/submit/").status_code == 200
    assert health.queue_length() > before


def test_after_one_failed_publish_the_next_requests_do_not_wait_for_the_broker(
    on_private_redis, api, requester, it_reviewer
):
    """Each submit e-mails the IT reviewer: after the first one's publish times out, this
    process leaves the others' to the outbox without trying the broker."""
    purchases = [PurchaseRequestFactory(requester=requester) for _ in range(3)]
    api.as_user(requester)
    with on_private_redis.frozen():
        first, first_took = timed(lambda: api.post(f"/api/requests/{purchases[0].pk}/submit/"))
        assert first.status_code == 200
        assert core_tasks.BROKER.active()
        for purchase in purchases[1:]:
            response, elapsed = timed(lambda p=purchase: api.post(f"/api/requests/{p.pk}/submit/"))
            assert response.status_code == 200
            assert elapsed < first_took / 2, "the broker was waited for again"
    assert Notification.objects.filter(channel=Channel.EMAIL, status=Status.PENDING).count() >= 3
