"""What a stage opening writes, by the size of the reviewer group (issue #28 item 2, SPEC §4:
"what is written when a step opens does not grow with the size of the reviewer group").

One in-app notice per step for its group, read by each member with their own read state
(written only when they read it); an e-mail for each member who chose "at once", and none for
those who chose the daily digest (the default), whose digest lists the group's notice."""

import pytest
from django.contrib.auth.models import Group

from accounts import roles
from approvals import workflow
from notifications import services
from notifications.models import Channel, Delivery, Kind, NoticeState, Notification
from tests.factories import PurchaseRequestFactory, UserFactory

pytestmark = pytest.mark.django_db


def rows_for_an_opening(size: int, *, at_once: bool = False) -> dict[str, int]:
    """The rows written when one request's review stage opens with `size` IT reviewers
    (procurement has one): notifications by channel, and read states."""
    Group.objects.get(name=roles.IT_REVIEWERS).user_set.clear()
    team = [UserFactory(roles=[roles.IT_REVIEWERS]) for _ in range(size)]
    if at_once:
        for person in team:
            services.set_preferences(person, {Kind.GROUP: Delivery.AT_ONCE})
    requester = UserFactory()
    before = set(Notification.objects.values_list("pk", flat=True))
    states = NoticeState.objects.count()
    workflow.submit_request(PurchaseRequestFactory(requester=requester), by=requester)
    written = Notification.objects.exclude(pk__in=before)
    counts = {
        channel: written.filter(channel=channel).count()
        for channel in (Channel.IN_APP, Channel.EMAIL)
    }
    return {**counts, "states": NoticeState.objects.count() - states}


@pytest.mark.usefixtures("procurement")
def test_with_the_digest_by_default_an_opening_writes_one_notice_per_group_and_no_email():
    expected = {Channel.IN_APP: 2, Channel.EMAIL: 0, "states": 0}  # the IT and procurement steps
    assert rows_for_an_opening(5) == expected
    assert rows_for_an_opening(50) == expected


@pytest.mark.usefixtures("procurement")
def test_those_who_chose_at_once_get_an_email_each():
    assert rows_for_an_opening(5, at_once=True) == {
        Channel.IN_APP: 2,
        Channel.EMAIL: 5,
        "states": 0,
    }


@pytest.mark.usefixtures("procurement")
def test_an_opening_writes_as_many_rows_for_a_group_of_5_as_of_50():
    assert sum(rows_for_an_opening(5).values()) == sum(rows_for_an_opening(50).values())


@pytest.mark.usefixtures("procurement")
def test_each_member_sees_the_one_notice():
    rows_for_an_opening(3)
    team = Group.objects.get(name=roles.IT_REVIEWERS).user_set.all()
    (notice,) = Notification.objects.filter(group__name=roles.IT_REVIEWERS)
    for member in team:
        assert [(n.pk, n.is_read) for n in services.inbox_of(member)] == [(notice.pk, False)]
