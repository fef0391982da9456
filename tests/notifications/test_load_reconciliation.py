"""The load test's reconciliation checks the contract of issue #28 item 2: a step opening for a
group is ONE notice for the group, written once; by e-mail only the members who chose "at
once", never one left out of it (their own request); the holder of a step assigned as it opened
told once, as its holder; each digest sent once, each person's digests one after the other
with no gap or overlap, so that each group notice is in exactly one digest of each member who
chose the digest. And it fails when a notice is lost, an e-mail goes to somebody who chose the
digest or was left out, or a digest leaves a notice out or lists it twice."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts import roles
from approvals import workflow
from approvals.models import AssignmentMode, GroupAssignment
from bench.load import reconcile
from notifications import digests, services
from notifications.models import Channel, Delivery, Digest, Kind, NoticeState, Notification
from tests.factories import PurchaseRequestFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewed(requester, it_reviewer, procurement):
    """Two IT reviewers (one hears of group items at once) and a third who files a request of
    their own, procurement assigning by round robin, four requests submitted."""
    services.set_preferences(it_reviewer, {Kind.GROUP: Delivery.AT_ONCE})
    UserFactory(username="ines", roles=[roles.IT_REVIEWERS])
    iris = UserFactory(username="iris", roles=[roles.IT_REVIEWERS])
    services.set_preferences(iris, {Kind.GROUP: Delivery.AT_ONCE})
    UserFactory(username="pia", roles=[roles.PROCUREMENT])
    GroupAssignment.objects.update_or_create(
        group=Group.objects.get(name=roles.PROCUREMENT),
        defaults={"mode": AssignmentMode.ROUND_ROBIN},
    )
    for _ in range(3):
        workflow.submit_request(PurchaseRequestFactory(requester=requester), by=requester)
    workflow.submit_request(PurchaseRequestFactory(requester=iris), by=iris)


def it_notice():
    return Notification.objects.filter(
        group__name=roles.IT_REVIEWERS, dedupe_key__startswith="opened:"
    ).first()


def email_for(notice, username):
    person = Group.objects.get(name=roles.IT_REVIEWERS).user_set.get(username=username)
    Notification.objects.create(
        recipient=person, channel=Channel.EMAIL, subject="s", url="/",
        dedupe_key=f"{notice.dedupe_key.rsplit(':', 2)[0]}:email:{person.pk}",
    )  # fmt: skip


def digests_tomorrow():
    with time_machine.travel(timezone.now() + timedelta(days=1), tick=False):
        assert digests.send_digests(timezone.now().replace(hour=9)) > 0


@pytest.mark.usefixtures("reviewed")
def test_the_reconciliation_passes_when_everyone_is_told_as_they_chose():
    figures = {}
    assert reconcile.one_notification_per_reviewer(figures) is True
    # One per step: the IT steps, and the procurement steps, which their holders hear of as
    # theirs while the rest of the group sees the group's notice.
    assert figures["group notices"] == 4 + 4
    assert reconcile.each_digest_sent_once(figures) is True
    assert figures["notices awaiting a digest"] > 0
    digests_tomorrow()
    figures = {}
    assert reconcile.one_notification_per_reviewer(figures) is True
    assert reconcile.each_digest_sent_once(figures) is True
    assert figures["digests"] > 0 and figures["notices awaiting a digest"] == 0


@pytest.mark.usefixtures("reviewed")
def test_it_fails_when_a_group_notice_is_lost():
    it_notice().delete()
    assert reconcile.one_notification_per_reviewer({}) is False


@pytest.mark.usefixtures("reviewed")
def test_it_fails_when_somebody_who_chose_the_digest_is_emailed():
    email_for(it_notice(), "ines")
    assert reconcile.one_notification_per_reviewer({}) is False


@pytest.mark.usefixtures("reviewed")
def test_it_fails_when_the_requester_left_out_is_emailed():
    own = Notification.objects.get(
        group__name=roles.IT_REVIEWERS, states__user__username="iris", states__hidden=True
    )
    email_for(own, "iris")
    assert reconcile.one_notification_per_reviewer({}) is False


@pytest.mark.usefixtures("reviewed")
def test_it_fails_when_a_member_left_out_of_a_notice_would_see_it():
    """Nobody but the requester is left out of these: with the requester's state gone, she
    would see her own request's notice, and her e-mail (she chose "at once") is missing."""
    NoticeState.objects.filter(hidden=True).delete()
    assert reconcile.one_notification_per_reviewer({}) is False


@pytest.mark.usefixtures("reviewed")
def test_it_fails_when_a_digest_leaves_a_group_notice_out():
    digests_tomorrow()
    ines = Digest.objects.get(user__username="ines")
    Digest.objects.filter(pk=ines.pk).update(since=ines.until - timedelta(minutes=1))
    assert reconcile.each_digest_sent_once({}) is False


@pytest.mark.usefixtures("reviewed")
def test_it_fails_when_two_digests_list_one_group_notice():
    digests_tomorrow()
    ines = Digest.objects.get(user__username="ines")
    Digest.objects.create(
        user=ines.user, day=ines.day - timedelta(days=1), since=ines.since, until=ines.until
    )
    assert reconcile.each_digest_sent_once({}) is False
