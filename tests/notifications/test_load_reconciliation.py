"""The load test's reconciliation checks the new contract (issue #28 item 2): each reviewer told
once in the app, by e-mail only those who chose "at once", the others' notices kept for their
digest; the holder of a step assigned as it opened told as its holder; each digest sent once.
And it fails when a notice is lost or an e-mail goes to somebody who chose the digest."""

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
from notifications.models import Channel, Delivery, Kind, Notification
from tests.factories import PurchaseRequestFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewed(requester, it_reviewer, procurement):
    """Two IT reviewers (one hears of group items at once), procurement assigning by round
    robin, three requests submitted."""
    services.set_preferences(it_reviewer, {Kind.GROUP: Delivery.AT_ONCE})
    UserFactory(username="ines", roles=[roles.IT_REVIEWERS])
    UserFactory(username="pia", roles=[roles.PROCUREMENT])
    GroupAssignment.objects.update_or_create(
        group=Group.objects.get(name=roles.PROCUREMENT),
        defaults={"mode": AssignmentMode.ROUND_ROBIN},
    )
    for _ in range(3):
        workflow.submit_request(PurchaseRequestFactory(requester=requester), by=requester)


@pytest.mark.usefixtures("reviewed")
def test_the_reconciliation_passes_when_everyone_is_told_as_they_chose():
    assert reconcile.one_notification_per_reviewer({}) is True
    with time_machine.travel(timezone.now() + timedelta(days=1), tick=False):
        assert digests.send_digests(timezone.now().replace(hour=9)) > 0
    figures = {}
    assert reconcile.one_notification_per_reviewer(figures) is True
    assert reconcile.each_digest_sent_once(figures) is True
    assert figures["digests"] > 0 and figures["notices awaiting a digest"] == 0


@pytest.mark.usefixtures("reviewed")
def test_it_fails_when_a_notice_is_lost():
    Notification.objects.filter(
        channel=Channel.IN_APP, recipient__username="ines", dedupe_key__startswith="opened:"
    ).first().delete()
    assert reconcile.one_notification_per_reviewer({}) is False


@pytest.mark.usefixtures("reviewed")
def test_it_fails_when_somebody_who_chose_the_digest_is_emailed():
    ines = Notification.objects.filter(
        channel=Channel.IN_APP, recipient__username="ines", dedupe_key__startswith="opened:"
    ).first()
    Notification.objects.create(
        recipient=ines.recipient, channel=Channel.EMAIL, subject="s", url="/",
        dedupe_key=f"{ines.dedupe_key.rsplit(':', 2)[0]}:email:{ines.recipient_id}",
    )  # fmt: skip
    assert reconcile.one_notification_per_reviewer({}) is False
