"""The queue kept per reader (approvals.queue_cache, PostgreSQL): served again only while no
table it reads has been written and the clock is in the same minute; every commit is seen at
once. Transactional tests: the cache serves only reads outside a transaction."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Delegation
from approvals import queue_cache
from notifications.models import Channel, Notification
from notifications.services import mark_read_for_page
from settings.base import redis_cache
from tests.factories import UserFactory
from tests.support.private_redis import PrivateRedis

from .test_api import decide

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

API = "/api/requests/?awaiting=me"
PAGE = "/approvals/"


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def version():
    return queue_cache.QUEUE_DATA.current(connection)


def numbers(api) -> list[str]:
    return [row["number"] for row in api.get(API).json()["results"]]


def test_the_database_moves_the_version_on_for_every_table_the_queue_reads():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname = 'queue_data_version_changed'"
        )
        assert {row[0] for row in cursor.fetchall()} == set(queue_cache.TABLES)


@pytest.mark.parametrize("role", ["it_reviewer", "procurement", "cio", "cpo", "requester"])
def test_the_queue_reads_nothing_but_the_tables_of_its_version(request, role, submitted, api):
    """Every query the page and the API make, for each role (the leaders' team view, the
    renewals in procurement's navigation), reads only tables whose writes move the version on,
    or who is asking."""
    user = request.getfixturevalue(role)
    submitted()
    stand_in_for = UserFactory(roles=["it_reviewers"])
    now = timezone.now()
    Delegation.objects.create(
        delegator=stand_in_for, delegate=user, starts_at=now, ends_at=now + timedelta(days=1)
    )
    client = Client()
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(PAGE).status_code == 200
        assert api.as_user(user).get(API).status_code == 200
    read = set()
    for query in queries.captured_queries:
        read |= set(re.findall(r'(?:FROM|JOIN)\s+"(\w+)"', query["sql"]))
    assert read
    assert read - set(queue_cache.TABLES) - set(queue_cache.READER_TABLES) == set()


def test_the_api_serves_the_kept_queue_until_a_decision_or_a_new_request(
    api, submitted, it_reviewer, django_assert_num_queries
):
    first = submitted()
    api.as_user(it_reviewer)
    assert numbers(api) == [first.number]
    with django_assert_num_queries(2):  # the token, the data version
        assert numbers(api) == [first.number]
    second = submitted()
    assert numbers(api) == [first.number, second.number]
    assert decide(api, first.steps.get(side="it"), "approve").status_code == 200
    assert numbers(api) == [second.number]


def test_a_change_of_groups_or_delegations_shows_at_once(api, submitted, it_reviewer):
    purchase_request = submitted()
    stand_in = UserFactory(username="stand-in")
    api.as_user(stand_in)
    assert numbers(api) == []
    now = timezone.now()
    Delegation.objects.create(
        delegator=it_reviewer, delegate=stand_in, starts_at=now, ends_at=now + timedelta(days=2)
    )
    assert numbers(api) == [purchase_request.number]
    Delegation.objects.all().delete()
    assert numbers(api) == []
    stand_in.groups.add(Group.objects.get(name="it_reviewers"))
    assert numbers(api) == [purchase_request.number]


def test_a_delegation_opening_later_shows_within_the_minute(api, submitted, it_reviewer):
    purchase_request = submitted()
    stand_in = UserFactory(username="stand-in")
    now = timezone.now()
    Delegation.objects.create(
        delegator=it_reviewer,
        delegate=stand_in,
        starts_at=now + timedelta(minutes=5),
        ends_at=now + timedelta(days=2),
    )
    api.as_user(stand_in)
    assert numbers(api) == []
    with time_machine.travel(now + timedelta(minutes=6)):
        assert numbers(api) == [purchase_request.number]


def test_the_page_is_kept_with_a_fresh_nonce_and_a_working_csrf_token(
    submitted, it_reviewer, django_assert_num_queries
):
    purchase_request = submitted()
    client = Client(enforce_csrf_checks=True)
    client.force_login(it_reviewer)
    client.get(PAGE)  # marks the new request's notification to the reviewer read
    first = client.get(PAGE)
    with django_assert_num_queries(3):  # the session, the user, the data version
        kept = client.get(PAGE)
    assert kept.content.count(purchase_request.number.encode()) == first.content.count(
        purchase_request.number.encode()
    )
    for response in (first, kept):
        nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
        assert f'"inlineStyleNonce": "{nonce}"' in response.content.decode()
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', kept.content).group(1)
    signed_out = client.post(reverse("logout"), {"csrfmiddlewaretoken": token.decode()})
    assert signed_out.status_code == 302
    assert client.get(PAGE).status_code == 302  # to the sign-in page


def test_a_page_with_a_message_is_never_kept_nor_served_from_the_cache(it_reviewer):
    client = Client()
    client.force_login(it_reviewer)
    client.get(PAGE)  # kept, without a message
    told = client.get(reverse("approvals:next-in-queue"), follow=True)
    assert b"Nothing else waits for you in this queue." in told.content
    assert b"Nothing else waits for you in this queue." not in client.get(PAGE).content


def test_the_page_follows_the_clock_each_minute(it_reviewer, django_assert_max_num_queries):
    client = Client()
    client.force_login(it_reviewer)
    now = timezone.now()
    with time_machine.travel(now):
        client.get(PAGE)
    with time_machine.travel(now + timedelta(minutes=1)), CaptureQueriesContext(connection) as q:
        client.get(PAGE)
    assert len(q) > 3  # worked out again


def test_without_the_cache_every_call_is_worked_out(settings, api, submitted, it_reviewer):
    settings.QUEUE_CACHE = False
    submitted()
    api.as_user(it_reviewer)
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            numbers(api)
        assert len(queries) > 2


def test_opening_a_page_with_nothing_unread_writes_nothing(it_reviewer):
    before = version()
    assert mark_read_for_page(it_reviewer, PAGE) == 0
    assert version() == before
    Notification.objects.create(
        recipient=it_reviewer, channel=Channel.IN_APP, url=PAGE, subject="Daily digest"
    )
    assert version() > before
    assert mark_read_for_page(it_reviewer, PAGE) == 1


def test_the_navigation_count_is_kept_with_the_queue_and_follows_it(submitted, it_reviewer):
    client = Client()
    client.force_login(it_reviewer)

    def count() -> str:
        found = re.search(rb'id="waiting-count">(\d+)<', client.get("/requests/").content)
        return found.group(1).decode() if found else ""

    assert count() == ""
    submitted()
    assert count() == "1"
    with CaptureQueriesContext(connection) as queries:
        assert count() == "1"
    assert not any("approvals_approvalstep" in q["sql"] for q in queries.captured_queries)
    submitted()
    assert count() == "2"


@pytest.mark.redis
def test_a_shared_redis_cache_keeps_the_queue_and_a_silent_one_is_only_a_miss(
    tmp_path, settings, api, submitted, it_reviewer, django_assert_num_queries
):
    """With CACHE_URL (settings.base.redis_cache) every process reads what one worked out; when
    that Redis stops answering, the queue is worked out on each call: no error, nothing lost."""
    server = PrivateRedis(tmp_path / "redis").start()
    try:
        settings.CACHES = {"default": redis_cache(server.url())}
        first = submitted()
        api.as_user(it_reviewer)
        assert numbers(api) == [first.number]
        assert server.client().keys("tandem:*")  # kept in Redis, not in this process
        with django_assert_num_queries(2):  # the token, the data version
            assert numbers(api) == [first.number]
        server.stop()
        for _ in range(2):
            with CaptureQueriesContext(connection) as queries:
                assert numbers(api) == [first.number]
            assert len(queries) > 2  # worked out
    finally:
        server.stop()


def test_the_version_names_its_database_so_a_new_one_under_the_same_name_starts_apart():
    """A database dropped and created again under the same name starts its sequence anew: what
    a shared cache kept under the old one's numbers must never match (core.data_versions)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT oid FROM pg_database WHERE datname = current_database()")
        database = cursor.fetchone()[0]
    assert version()[0] == database


def test_a_kept_page_shows_a_step_taken_or_handed_on_at_once(submitted, it_reviewer, api):
    """Taking, handing on and releasing a step write its row, which moves the version on: the
    kept queue never shows a stale holder."""
    colleague = UserFactory(username="irene", first_name="Irene", last_name="Ives")
    colleague.groups.add(Group.objects.get(name="it_reviewers"))
    step = submitted().steps.get(side="it")
    mine, theirs = Client(), Client()
    mine.force_login(it_reviewer)
    theirs.force_login(colleague)

    def held(client) -> bool:
        return 'id="held-by-me"' in client.get(PAGE).content.decode()

    assert (held(mine), held(theirs)) == (False, False)
    assert (held(mine), held(theirs)) == (False, False)  # kept
    assert api.as_user(it_reviewer).post(f"/api/steps/{step.pk}/take/").status_code == 200
    assert (held(mine), held(theirs)) == (True, False)
    assert "data-holder>" + str(it_reviewer) + "<" in theirs.get(PAGE).content.decode()
    response = api.post(f"/api/steps/{step.pk}/assign/", {"to": "irene"}, format="json")
    assert response.status_code == 200
    assert (held(mine), held(theirs)) == (False, True)
    assert api.as_user(colleague).post(f"/api/steps/{step.pk}/release/").status_code == 200
    assert (held(mine), held(theirs)) == (False, False)
