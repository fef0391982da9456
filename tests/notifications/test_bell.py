"""The bell in the menu: how many in-app notifications wait unread, the reader's own and their
groups', counted up to 99 ("99+" beyond), so that a reviewer with thousands unread costs no
more than one with a hundred; and opening a page reads those pointing to it, found by an index
among however many are unread."""

import re

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import roles
from notifications.models import Channel, Notification

pytestmark = pytest.mark.django_db


def unread(user, count: int, url: str = "/requests/") -> None:
    Notification.objects.bulk_create(
        Notification(
            recipient=user, channel=Channel.IN_APP, subject=f"Notice {n}", url=url,
            dedupe_key=f"bell:{user.pk}:{url}:{n}",
        )
        for n in range(count)
    )  # fmt: skip


def group_unread(name: str, count: int, url: str = "/requests/") -> None:
    """`count` notices of the group `name`, nobody's read: one row each for the whole group."""
    group = Group.objects.get(name=name)
    Notification.objects.bulk_create(
        Notification(
            group=group, channel=Channel.IN_APP, subject=f"Step {n}", url=url,
            dedupe_key=f"bell:g{group.pk}:{url}:{n}",
        )
        for n in range(count)
    )  # fmt: skip


def bell(client) -> str:
    page = client.get("/requests/").content.decode()
    label = page.split('id="notification-bell" aria-label="', 1)[1].split('"', 1)[0]
    badge = (
        page.split('id="unread-count">', 1)[1].split("<", 1)[0] if "unread-count" in page else ""
    )
    return f"{label} / {badge}"


def test_the_bell_counts_up_to_99_then_says_99_plus(client, requester):
    client.force_login(requester)
    assert bell(client) == "Notifications, 0 unread / "
    unread(requester, 99, url="/somewhere/")
    assert bell(client) == "Notifications, 99 unread / 99"
    unread(requester, 1000, url="/elsewhere/")
    with CaptureQueriesContext(connection) as queries:
        assert bell(client) == "Notifications, 99+ unread / 99+"
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"] and "notification" in q["sql"]]
    assert len(counts) == 1 and "LIMIT 100" in counts[0]


def test_the_bell_counts_the_groups_notices_too_in_its_one_query(client, it_reviewer):
    client.force_login(it_reviewer)
    group_unread(roles.IT_REVIEWERS, 40, url="/somewhere/")
    group_unread(roles.PROCUREMENT, 40, url="/somewhere/")  # not Ivan's group
    unread(it_reviewer, 40, url="/elsewhere/")
    assert bell(client) == "Notifications, 80 unread / 80"
    group_unread(roles.IT_REVIEWERS, 1000, url="/elsewhere/")
    with CaptureQueriesContext(connection) as queries:
        assert bell(client) == "Notifications, 99+ unread / 99+"
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"] and "notification" in q["sql"]]
    assert len(counts) == 1 and "LIMIT 100" in counts[0]


def test_opening_a_page_reads_only_its_own_among_many_unread(client, it_reviewer):
    unread(it_reviewer, 300, url="/approvals/elsewhere/")
    unread(it_reviewer, 2, url="/approvals/")
    unread(it_reviewer, 1, url="/approvals/#consultations")
    client.force_login(it_reviewer)
    assert client.get("/approvals/").status_code == 200
    still_unread = Notification.objects.filter(recipient=it_reviewer, read_at__isnull=True)
    assert set(still_unread.values_list("url", flat=True)) == {"/approvals/elsewhere/"}
    assert still_unread.count() == 300


@pytest.mark.postgres
def test_postgres_finds_a_pages_unread_notifications_by_index(requester):
    unread(requester, 2000, url="/elsewhere/")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE notifications_notification")
        cursor.execute(
            "EXPLAIN SELECT 1 FROM notifications_notification WHERE channel = 'in_app' "
            "AND read_at IS NULL AND recipient_id = %s AND (url = '/requests/' "
            "OR url LIKE '/requests/#%%' OR url LIKE '/requests/?%%') LIMIT 1",
            [requester.pk],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "unread_in_app_by_url" in plan


@pytest.mark.postgres
def test_postgres_reads_the_inboxs_newest_page_by_index(client, requester):
    """The inbox's first page is read from the index, not by sorting the whole history."""
    unread(requester, 2000, url="/elsewhere/")
    client.force_login(requester)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/notifications/").status_code == 200
    page = next(q["sql"] for q in queries if "ORDER BY" in q["sql"] and "LIMIT 25" in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE notifications_notification")
        cursor.execute(f"EXPLAIN {page}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "in_app_newest_first" in plan
    assert "Sort" not in plan


def explain(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE notifications_notification")
        cursor.execute("ANALYZE notifications_noticestate")
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.postgres
def test_postgres_reads_the_inboxs_newest_page_of_own_and_group_notices_by_index(
    client, it_reviewer
):
    """Their own notices and each of their groups' are read from their indexes, newest first,
    and merged: no sort of the whole history."""
    it_reviewer.groups.add(Group.objects.get(name=roles.PROCUREMENT))
    unread(it_reviewer, 2000, url="/elsewhere/")
    group_unread(roles.IT_REVIEWERS, 2000, url="/elsewhere/")
    group_unread(roles.PROCUREMENT, 2000, url="/elsewhere/")
    group_unread(roles.CIO, 2000, url="/elsewhere/")
    client.force_login(it_reviewer)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/notifications/").status_code == 200
    page = next(q["sql"] for q in queries if "ORDER BY" in q["sql"] and "LIMIT 25" in q["sql"])
    plan = explain(page)
    assert "in_app_newest_first" in plan and "group_notices_newest_first" in plan
    assert "Merge Append" in plan  # each part read in order, as far as the page: merged
    assert not re.search(r"(^|->)\s*Sort\s+\(", plan, re.MULTILINE)  # nothing sorted


@pytest.mark.postgres
def test_postgres_counts_the_bell_from_the_open_group_notices_only(client, it_reviewer):
    """The bell reads a group's notices still open, not its whole history."""
    group_unread(roles.IT_REVIEWERS, 3000, url="/elsewhere/")
    Notification.objects.filter(group__isnull=False).update(done_at="2026-01-01T00:00:00Z")
    group_unread(roles.IT_REVIEWERS, 5, url="/open/")
    client.force_login(it_reviewer)
    with CaptureQueriesContext(connection) as queries:
        assert bell(client) == "Notifications, 5 unread / 5"
    count = next(q["sql"] for q in queries if "COUNT(" in q["sql"] and "notification" in q["sql"])
    assert "open_group_notices" in explain(count)
