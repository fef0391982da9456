"""Two sweeps at once over the same due steps, on PostgreSQL (SPEC §4): the set-based sweep
inserts each batch's alerts with INSERT … ON CONFLICT DO NOTHING RETURNING, so between both
runs every step gets exactly one alert and every reviewer exactly one notification per channel.
Small batches make the two runs' batches overlap and interleave."""

import threading
from collections import Counter
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from accounts import roles
from approvals import reminders, workflow
from approvals.models import ApprovalStep, StepAlert, StepState
from audit.chain import verify_chain
from audit.models import AuditEvent
from notifications.models import Channel, Notification
from tests.factories import PurchaseRequestFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

START = timezone.now().replace(microsecond=0)
REQUESTS = 100  # two review steps each (IT and procurement): 200 due steps


def test_two_sweeps_over_200_due_steps_alert_and_notify_each_reviewer_once(
    requester, it_reviewer, procurement, monkeypatch
):
    second_it = UserFactory(username="ines", roles=[roles.IT_REVIEWERS])
    with time_machine.travel(START, tick=False):
        for _ in range(REQUESTS):
            workflow.submit_request(PurchaseRequestFactory(requester=requester), by=requester)
    steps = {step.pk: step.group.name for step in ApprovalStep.objects.select_related("group")}
    assert len(steps) == 200 and all(
        state == StepState.OPEN for state in ApprovalStep.objects.values_list("state", flat=True)
    )
    monkeypatch.setattr(reminders, "BATCH", 30)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def sweep():
        try:
            barrier.wait()
            results.append(reminders.sweep_due_steps(START + timedelta(hours=49)))
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(results) == 200
    alerts = Counter(StepAlert.objects.values_list("step_id", "kind", "sequence"))
    assert set(alerts) == {(pk, "reminder", 0) for pk in steps}
    assert set(alerts.values()) == {1}

    members = {
        roles.IT_REVIEWERS: {it_reviewer.pk, second_it.pk},
        roles.PROCUREMENT: {procurement.pk},
    }
    expected = Counter()
    for pk, group in steps.items():
        for user in members[group]:
            for channel in (Channel.EMAIL, Channel.IN_APP):
                expected[(f"reminder:{pk}:0:{channel}:{user}", user)] = 1
    reminded = Counter(
        Notification.objects.filter(dedupe_key__startswith="reminder:")
        .exclude(channel=Channel.WEBHOOK)
        .values_list("dedupe_key", "recipient_id")
    )
    assert reminded == expected
    # Everything rescheduled to the next reminder, 24 h after the due time.
    assert set(ApprovalStep.objects.values_list("next_alert_at", flat=True)) == {
        START + timedelta(hours=72)
    }
    # Each reminder is one audit event (issue 27 item 9), in a chain that stays intact.
    recorded = Counter(
        event["step"]
        for event in AuditEvent.objects.filter(kind="reminder_sent").values_list(
            "payload", flat=True
        )
    )
    assert set(recorded) == set(steps) and set(recorded.values()) == {1}
    assert verify_chain().intact
