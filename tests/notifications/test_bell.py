"""The bell in the menu: how many in-app notifications wait unread, counted up to 99 ("99+"
beyond), so that a reviewer with thousands unread costs no more than one with a hundred; and
opening a page reads those pointing to it, found by an index among however many are unread."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

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
