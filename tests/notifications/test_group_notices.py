"""A group's notice (SPEC §4, issue #28 item 2): a step opening for a group that nobody holds
yet is ONE notice for the group, whatever its size. Each member sees it in their inbox and
bell and reads it for themselves only; the requester in the group does not see it, nor a
member who joined the site after it was written; a colleague deciding settles it for all; a
member who chose the digest finds it in exactly one digest."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import roles
from approvals import services as approval_services
from approvals import workflow
from calendars import selectors as calendar_selectors
from core import formats
from notifications import services
from notifications.models import Channel, Delivery, Kind, NoticeState, Notification
from notifications.tasks import deliver_pending, send_digests
from tests.factories import PurchaseRequestFactory, UserFactory

pytestmark = pytest.mark.django_db

UTC = ZoneInfo("UTC")
MONDAY_7 = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


@pytest.fixture
def ines(db):
    return UserFactory(username="ines", roles=[roles.IT_REVIEWERS])


@pytest.fixture
def opened(requester, it_reviewer, ines, procurement):
    """A request whose IT step is open for the group (Ivan and Ines), nobody holding it."""
    purchase_request = PurchaseRequestFactory(requester=requester, title="Figma seats")
    return workflow.submit_request(purchase_request, by=requester)


def it_notice() -> Notification:
    return Notification.objects.get(group__name=roles.IT_REVIEWERS)


def bell(client) -> str:
    page = client.get("/requests/").content.decode()
    return page.split('id="notification-bell" aria-label="', 1)[1].split('"', 1)[0]


def test_each_member_sees_the_one_notice(client, opened, it_reviewer, ines):
    notice = it_notice()
    assert (notice.recipient, notice.channel, notice.kind) == (None, Channel.IN_APP, Kind.GROUP)
    assert "Figma seats" in notice.subject
    for member in (it_reviewer, ines):
        assert [(n.pk, n.is_read) for n in services.inbox_of(member)] == [(notice.pk, False)]
        client.force_login(member)
        assert bell(client) == "Notifications, 1 unread"
        page = client.get("/notifications/").content.decode()
        assert "Figma seats" in page and 'data-unread="true"' in page


def test_a_member_reads_it_for_themselves_only(client, opened, it_reviewer, ines):
    client.force_login(it_reviewer)
    client.get(opened.get_absolute_url())  # being on its page reads it
    assert [n.is_read for n in services.inbox_of(it_reviewer)] == [True]
    assert not services.unread_for(it_reviewer).exists()
    assert [n.is_read for n in services.inbox_of(ines)] == [False]
    assert services.unread_for(ines).get() == it_notice()
    assert NoticeState.objects.get().user == it_reviewer  # the reader's row, nobody else's
    assert it_notice().read_at is None


def test_opening_it_from_the_inbox_reads_it_and_follows_its_link(client, opened, it_reviewer, ines):
    notice = it_notice()
    client.force_login(it_reviewer)
    response = client.post("/notifications/read/", {"id": notice.pk, "follow": "1"})
    assert (response.status_code, response.url) == (302, notice.url)
    assert bell(client) == "Notifications, 0 unread"
    assert services.unread_for(ines).exists()


def test_mark_all_as_read_reads_the_groups_notices_for_the_reader(
    client, opened, it_reviewer, ines
):
    services.notify(
        [it_reviewer], subject="Your own", lines=["Mine"], action="Open", url="/requests/",
        dedupe_key="own", kind=Kind.OUTCOMES,
    )  # fmt: skip
    client.force_login(it_reviewer)
    assert bell(client) == "Notifications, 2 unread"
    client.post("/notifications/read/")
    assert bell(client) == "Notifications, 0 unread"
    assert services.unread_for(ines).count() == 1


def test_somebody_outside_the_group_neither_sees_nor_reads_it(client, opened, other_requester):
    notice = it_notice()
    assert not services.notices_of(other_requester).exists()
    client.force_login(other_requester)
    response = client.post("/notifications/read/", {"id": notice.pk, "follow": "1"})
    assert response.url == "/notifications/"  # not followed: not theirs
    assert not NoticeState.objects.exists()
    assert services.notice_of(other_requester, notice.pk) is None


def test_the_requester_in_the_group_does_not_see_it(
    client, it_reviewer, procurement, django_capture_on_commit_callbacks
):
    iris = UserFactory(username="iris", roles=[roles.IT_REVIEWERS])
    services.set_preferences(iris, {Kind.GROUP: Delivery.AT_ONCE})
    services.set_preferences(it_reviewer, {Kind.GROUP: Delivery.AT_ONCE})
    with django_capture_on_commit_callbacks(execute=True):
        workflow.submit_request(PurchaseRequestFactory(requester=iris, title="My own"), by=iris)
    assert not services.notices_of(iris).exists()
    client.force_login(iris)
    assert bell(client) == "Notifications, 0 unread"
    assert "My own" not in client.get("/notifications/").content.decode()
    assert [m.to for m in mail.outbox if "My own" in m.subject] == [[it_reviewer.email]]
    assert services.unread_for(it_reviewer).get() == it_notice()
    # What keeps her out is one row: as many as the people left out, not the group's size.
    assert list(NoticeState.objects.values_list("user", "hidden")) == [(iris.pk, True)]


def test_a_colleague_deciding_settles_it_for_all(client, opened, it_reviewer, ines):
    step = opened.steps.get(side="it")
    approval_services.decide_step(step, by=it_reviewer, decision="approve")
    for member in (it_reviewer, ines):
        assert not services.unread_for(member).exists()
        (notice,) = services.inbox_of(member)
        assert notice.done_at is not None
        assert notice.done_note == f"{it_reviewer} approved"
    client.force_login(ines)
    page = client.get("/notifications/").content.decode()
    assert 'data-done="true"' in page and f"{it_reviewer} approved" in page
    assert bell(client) == "Notifications, 0 unread"


def test_a_member_who_joined_after_does_not_see_it(requester, it_reviewer, procurement):
    with time_machine.travel(MONDAY_7, tick=False):
        workflow.submit_request(PurchaseRequestFactory(requester=requester), by=requester)
    with time_machine.travel(MONDAY_7 + timedelta(hours=1), tick=False):
        nina = UserFactory(username="nina", roles=[roles.IT_REVIEWERS], date_joined=timezone.now())
        assert not services.notices_of(nina).exists()
        assert not services.unread_for(nina).exists()
        workflow.submit_request(PurchaseRequestFactory(requester=requester), by=requester)
    (seen,) = services.inbox_of(nina)  # the step opened since she joined
    assert seen.created_at == MONDAY_7 + timedelta(hours=1)
    assert services.inbox_of(it_reviewer).count() == 2


def test_a_member_who_leaves_the_group_no_longer_sees_it(opened, ines):
    ines.groups.remove(Group.objects.get(name=roles.IT_REVIEWERS))
    ines.refresh_from_db()  # a new request: her groups as they are now
    assert not services.notices_of(ines).exists()


def emails_to(user):
    return [m for m in mail.outbox if m.to == [user.email]]


def test_a_member_who_chose_the_digest_gets_it_in_one_digest_only(
    requester, it_reviewer, ines, procurement, django_capture_on_commit_callbacks
):
    services.set_preferences(it_reviewer, {Kind.GROUP: Delivery.AT_ONCE})
    with (
        time_machine.travel(MONDAY_7, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        workflow.submit_request(
            PurchaseRequestFactory(requester=requester, title="Figma"), by=requester
        )
    with time_machine.travel(MONDAY_7 + timedelta(hours=2), tick=False):
        send_digests()
        deliver_pending()
    (first,) = emails_to(ines)
    assert "Figma" in first.body and "My group's new items (1)" in first.body
    with (
        time_machine.travel(MONDAY_7 + timedelta(hours=5), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        workflow.submit_request(
            PurchaseRequestFactory(requester=requester, title="Miro"), by=requester
        )
    with time_machine.travel(MONDAY_7 + timedelta(days=1, hours=2), tick=False):
        send_digests()
        deliver_pending()
    first, second = emails_to(ines)
    assert "Miro" in second.body and "Figma" not in second.body
    # Ivan chose "at once": each by itself, and no digest.
    assert [m.subject.startswith("For your decision") for m in emails_to(it_reviewer)] == [
        True,
        True,
    ]


def test_a_digest_leaves_out_what_its_reader_may_not_see(
    it_reviewer, procurement, django_capture_on_commit_callbacks
):
    iris = UserFactory(username="iris", roles=[roles.IT_REVIEWERS])
    with time_machine.travel(MONDAY_7, tick=False):
        workflow.submit_request(PurchaseRequestFactory(requester=iris, title="My own"), by=iris)
    with time_machine.travel(MONDAY_7 + timedelta(hours=2), tick=False):
        send_digests()
        deliver_pending()
    assert emails_to(iris) == []
    assert "My own" in emails_to(it_reviewer)[0].body


def test_the_teams_zone_writes_the_notice_once_whatever_the_members_zones(
    requester, it_reviewer, ines, procurement
):
    """Its members are in two other zones: one notice all the same, its due time in the team's
    working-hours zone (each e-mail is in its reader's own)."""
    for person, zone in ((it_reviewer, "Asia/Tokyo"), (ines, "America/Los_Angeles")):
        person.time_zone = zone
        person.save()
    purchase_request = workflow.submit_request(
        PurchaseRequestFactory(requester=requester), by=requester
    )
    step = purchase_request.steps.get(side="it")
    notice = it_notice()
    with timezone.override(calendar_selectors.working_hours_of(step.group_id).zone):
        assert formats.due(step.due_at, dated=True) in notice.summary


def test_the_inbox_and_bell_cost_the_same_for_5_group_notices_as_for_50(client, it_reviewer):
    """A reviewer in two groups, their own notices and their groups': the same queries for a
    page of 5 as of 50, and within the notifications page's pinned number
    (tests/core/test_list_query_counts.py)."""
    it_reviewer.groups.add(Group.objects.get(name=roles.PROCUREMENT))
    groups = list(it_reviewer.groups.all())
    client.force_login(it_reviewer)

    def write(n):
        for group in groups:
            Notification.objects.bulk_create(
                Notification(group=group, channel=Channel.IN_APP, subject=f"Step {i}", url="/")
                for i in range(n)
            )
        Notification.objects.bulk_create(
            Notification(recipient=it_reviewer, channel=Channel.IN_APP, subject="Mine", url="/")
            for _ in range(n)
        )

    def queries(url):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    write(5)
    client.get("/notifications/")
    five = queries("/notifications/"), queries("/requests/")
    write(45)
    assert (queries("/notifications/"), queries("/requests/")) == five
    assert five[0] <= 9
    assert bell(client) == "Notifications, 99+ unread"


def test_the_inbox_pages_own_and_group_notices_newest_first(client, it_reviewer):
    """Each part is read only as far as the page reaches, then merged: every page right."""
    it_reviewer.groups.add(Group.objects.get(name=roles.PROCUREMENT))
    groups = list(it_reviewer.groups.all())
    written = []
    for n in range(60):
        with time_machine.travel(MONDAY_7 + timedelta(minutes=n), tick=False):
            if n % 3 == 0:
                row = Notification(recipient=it_reviewer, channel=Channel.IN_APP, url="/")
            else:
                row = Notification(group=groups[n % 3 - 1], channel=Channel.IN_APP, url="/")
            row.subject = f"Notice {n}"
            row.save()
            written.append(row.subject)
    newest_first = written[::-1]
    inbox = services.inbox_of(it_reviewer)
    assert inbox.count() == 60
    assert [n.subject for n in inbox[25:50]] == newest_first[25:50]
    assert inbox[59].subject == "Notice 0"
    client.force_login(it_reviewer)
    page = client.get("/notifications/?page=3").content.decode()
    assert [f"Notice {n}" in page for n in (9, 10)] == [True, False]
