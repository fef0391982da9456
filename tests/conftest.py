import dataclasses
import importlib
import os
import secrets
import shutil
import threading

import pytest
from celery.result import allow_join_result
from django.apps import apps as django_apps
from django.conf import settings
from django.core.servers.basehttp import ThreadedWSGIServer
from django.db import connection
from django.db.models.signals import post_migrate
from django.test.testcases import LiveServerThread
from rest_framework.test import APIClient

from accounts import roles
from approvals import routing
from core import outages
from tests.factories import UserFactory

# Playwright's sync API runs an event loop in the test thread; Django's ORM refuses to run
# inside one unless told that this (test-only) use is safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


# Tests that start gunicorn, Celery or private servers (the production shape shares the machine's
# Redis database 14, tests/integration/shape.py) and take most of a core each: under `make test`'s
# parallel workers (pytest-xdist, --dist loadgroup) they run one after another on one worker,
# first (the Makefile keeps the order: --no-loadscope-reorder), so that the longest group, about
# ten minutes on PostgreSQL, never comes last while the other worker idles.
SERVICES_GROUP = "services"
SERVICE_TESTS = ("tests/integration/", "tests/security/test_faults.py")


def _group_of(item) -> str:
    path = item.nodeid.partition("::")[0]
    return SERVICES_GROUP if path.startswith(SERVICE_TESTS) else path


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups into the test ids
def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` need PostgreSQL's locking: they run in the DATABASE_URL pass.
    With TANDEM_REQUIRE_POSTGRES=1 (CI's PostgreSQL pass) a non-PostgreSQL database fails the run
    instead of skipping them. Each test module is one group for the parallel workers, so that
    its module fixtures are set up once; the service tests are one group together."""
    _group_for_workers(items)
    vendor = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    on_postgres = vendor in ("postgresql", "postgresql_psycopg2")
    if os.environ.get("TANDEM_REQUIRE_POSTGRES") == "1" and not on_postgres:
        raise pytest.UsageError("TANDEM_REQUIRE_POSTGRES=1 but DATABASE_URL is not PostgreSQL")
    if on_postgres:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: runs in the DATABASE_URL pass of .ci/run")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def _group_for_workers(items) -> None:
    for item in items:
        item.add_marker(pytest.mark.xdist_group(_group_of(item)))


class _ServicesFirst:
    """Puts the service tests first, after pytest-django has ordered the rest (transactional
    tests last) and xdist has read the groups."""

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items):
        items.sort(key=lambda item: _group_of(item) != SERVICES_GROUP)  # stable sort


def pytest_configure(config):
    config.pluginmanager.register(_ServicesFirst(), "tandem-services-first")


# What the data migrations create: role groups, categories, default routing rules, rates.
REFERENCE_DATA = [
    ("accounts.migrations.0002_role_groups", "create_groups"),
    ("intake.migrations.0002_default_categories", "create_categories"),
    ("approvals.migrations.0002_default_rules", "create"),
    ("intake.migrations.0004_exchange_rates", "create"),
    ("approvals.migrations.0004_vendor_review_rules", "create"),
    ("vendors.migrations.0003_default_questionnaire", "create"),
]


def _put_back_reference_data(sender, **kwargs):
    """A transactional test (threads, processes, the live server) ends by emptying the
    database, data-migration rows included, and Django then sends `post_migrate`: the rows are
    put back at once, with the migrations' own idempotent functions, so that every later test
    in the process finds them, whatever order the parallel workers run the tests in."""
    for module, function in REFERENCE_DATA:
        getattr(importlib.import_module(module), function)(django_apps, None)


# Sent once per app after a flush: the last app's signal comes after Django has put back its
# content types and permissions.
post_migrate.connect(
    _put_back_reference_data,
    sender=list(django_apps.get_app_configs())[-1],
    dispatch_uid="tandem-reference-data",
)


@pytest.fixture(autouse=True)
def _no_compiled_rules_from_an_earlier_test():
    """Each test's rules are read afresh: a rolled-back test can leave the rules' version
    (count, ids, latest change) exactly as a later test recreates it under frozen time, while the
    rules themselves differ; in production ids never come back and time moves on."""
    routing.forget_rules()


@pytest.fixture(autouse=True)
def _no_outage_from_an_earlier_test():
    """A failed publish or cache call leaves the broker or the cache alone for a while, and
    each dependency's outage is logged when it starts (core.outages): each test starts with
    every dependency asked again and none failing."""
    outages.reset_all()


@pytest.fixture(autouse=True)
def _celery_may_join_results():
    """Celery keeps "joining a result would block" in a process-wide flag; a test that runs
    tasks eagerly inside another eager task can leave it set, and a later test's `.get()` would
    then refuse. Each test runs with joins allowed, as in a plain process (Celery's public
    `allow_join_result`), and the flag is put back after it."""
    with allow_join_result():
        yield


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def group_items_at_once(monkeypatch):
    """Everybody hears of their group's new items at once (the default is the daily digest): for
    tests about what those e-mails and chat messages say and do, not about when they go."""
    from notifications.models import KINDS, Delivery, Kind

    monkeypatch.setitem(
        KINDS, Kind.GROUP, dataclasses.replace(KINDS[Kind.GROUP], default=Delivery.AT_ONCE)
    )


@pytest.fixture
def requester(db):
    return UserFactory(username="rita")


@pytest.fixture
def other_requester(db):
    return UserFactory(username="oscar")


@pytest.fixture
def it_reviewer(db):
    return UserFactory(username="ivan", roles=[roles.IT_REVIEWERS])


@pytest.fixture
def procurement(db):
    return UserFactory(username="paul", roles=[roles.PROCUREMENT])


@pytest.fixture
def cio(db):
    return UserFactory(username="cora", roles=[roles.CIO])


@pytest.fixture
def cpo(db):
    return UserFactory(username="cleo", roles=[roles.CPO])


@pytest.fixture
def admin_user(db):
    return UserFactory(username="ada", is_staff=True, is_superuser=True)


@pytest.fixture
def api():
    """An API client; `api.as_user(user)` signs it in with a scoped API token (read, write and
    decide), like an integration would."""

    class Client(APIClient):
        def as_user(self, user):
            from django.utils import timezone

            from accounts.models import ApiToken
            from accounts.tokens import create_token

            row, token = create_token(
                user, name=f"Test client {secrets.token_hex(4)}", scopes=["read", "write", "decide"]
            )
            # As a token in use: its once-a-minute "last used" write is not in every test's
            # first call (the query-count tests count a call's own queries).
            ApiToken.objects.filter(pk=row.pk).update(last_used_at=timezone.now())
            self.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
            return self

    return Client()


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's chromium, never a downloaded browser (see DEVELOPERS.md)."""
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    }


class OneRequestAtATimeServer(ThreadedWSGIServer):
    """The live server with in-memory SQLite: each request's thread uses the test's own
    connection, shared, so two requests running at once (htmx panels fire together) step
    statements on one SQLite connection concurrently. A full run once hung there, both threads
    spinning in the same query. Requests still arrive on their own threads (keep-alive
    connections must not block each other); only the application runs one at a time, its body
    read inside the lock because a streamed response queries while it is read."""

    lock = threading.Lock()

    def set_app(self, application):
        def one_at_a_time(environ, start_response):
            with self.lock:
                response = application(environ, start_response)
                try:
                    return list(response)
                finally:
                    if hasattr(response, "close"):
                        response.close()

        super().set_app(one_at_a_time)


@pytest.fixture(scope="session", autouse=True)
def _live_server_one_request_at_a_time_on_sqlite():
    if connection.vendor != "sqlite":
        yield
        return
    original = LiveServerThread.server_class
    LiveServerThread.server_class = OneRequestAtATimeServer
    yield
    LiveServerThread.server_class = original
