"""Two digest runs at once, on PostgreSQL (issue #28 item 2): two schedulers, or a run and its
retry, race for the same people's digests; each person's (user, day) row is claimed by one of
them, so each gets exactly one digest e-mail, listing every item once."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from accounts import roles
from approvals import workflow
from notifications import digests
from notifications.models import Channel, Digest, Kind, Notification
from tests.factories import PurchaseRequestFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

MORNING = (timezone.now() + timedelta(days=1)).replace(hour=9, minute=15, microsecond=0)


def test_two_digest_runs_at_once_send_each_person_one(requester, it_reviewer, procurement):
    team = [UserFactory(username=f"it{n}", roles=[roles.IT_REVIEWERS]) for n in range(8)]
    with time_machine.travel(MORNING - timedelta(hours=3), tick=False):
        for n in range(5):
            workflow.submit_request(
                PurchaseRequestFactory(requester=requester, title=f"Item {n}"), by=requester
            )
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(digests.send_digests(MORNING))
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    people = [it_reviewer, procurement, *team]
    assert errors == []
    assert sum(results) == len(people)
    assert Digest.objects.count() == len(people)
    emails = Notification.objects.filter(channel=Channel.EMAIL, kind=Kind.DIGEST)
    assert sorted(emails.values_list("recipient_id", flat=True)) == sorted(p.pk for p in people)
    for email in emails:
        assert "My group's new items (5)" in email.body
        assert all(f"Item {n}" in email.body for n in range(5))
    assert not Notification.objects.filter(awaits_digest=True).exists()
