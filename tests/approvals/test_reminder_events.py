"""Reminders and escalations are audit events (SPEC §8, issue 27 item 9): each one sent is an
event in the hash chain, once however often the sweep runs, in plain words on the request's (or
vendor's) timeline, in `/api/requests/{id}/events/` and in the evidence packet."""

import io
import json
import re
import zipfile
from datetime import date, timedelta

import pytest
import time_machine
from django.utils import timezone

from approvals import services as approval_services
from approvals import workflow
from approvals.models import StepKind
from approvals.reminders import sweep_due_consultations, sweep_due_steps
from approvals.services import decide_step
from audit.chain import verify_chain
from audit.models import AuditEvent
from audit.signing import generate_key
from tandem_verify.packet import verify
from tests.factories import PurchaseRequestFactory, UserFactory
from vendors.models import Vendor

pytestmark = pytest.mark.django_db

START = timezone.now().replace(microsecond=0)
ALERT_KINDS = ("reminder_sent", "escalated", "consultation_reminded")


def sweep_twice_at(hours):
    """The sweep as a retried task or a second scheduler runs it: twice at the same moment."""
    with time_machine.travel(START + timedelta(hours=hours), tick=False):
        return sweep_due_steps(), sweep_due_steps()


def alert_events(subject):
    return list(
        AuditEvent.objects.for_object(subject)
        .filter(kind__in=ALERT_KINDS)
        .order_by("sequence")
        .values_list("kind", "payload")
    )


@pytest.fixture
def ivan(it_reviewer):
    it_reviewer.first_name, it_reviewer.last_name = "Ivan", "Novak"
    it_reviewer.save()
    return it_reviewer


@pytest.fixture
def in_review(requester, ivan, procurement, cio, cpo):
    """Submitted at START with the default steps: due after 48 h, escalated after 96 h. IT
    review has Ivan Novak and two more people (the requester, also in it, is never counted)."""
    for name in ("Jana", "Karl"):  # named after Ivan: people are listed by name
        UserFactory(username=name.lower(), first_name=name, roles=["it_reviewers"])
    requester.groups.add(ivan.groups.get())
    with time_machine.travel(START, tick=False):
        return workflow.submit_request(PurchaseRequestFactory(requester=requester), by=requester)


def test_a_reminder_and_an_escalation_are_each_one_event_after_two_sweeps(
    client, api, in_review, requester, settings
):
    assert sweep_twice_at(48) == (2, 0)  # a reminder per side; the second run records nothing
    assert sweep_twice_at(96) == (4, 0)  # the repeat and the escalation, per side
    it_step = in_review.steps.get(side="it")
    events = sorted(
        (kind, payload.get("sequence", -1))
        for kind, payload in alert_events(in_review)
        if payload["step"] == it_step.pk
    )
    assert events == [("escalated", -1), ("reminder_sent", 0), ("reminder_sent", 2)]
    assert len(alert_events(in_review)) == 6  # three per side, no more

    # The request page's timeline, in plain words.
    client.force_login(requester)
    page = client.get(f"/requests/{in_review.pk}/").content.decode()
    assert page.count("Reminder sent to IT review (Ivan Novak or 2 others)") == 2
    assert page.count("Escalated to the CIO after 96 working hours") == 1
    assert page.count("Escalated to the CPO after 96 working hours") == 1
    assert "reminder_sent" not in re.sub(r'data-kind="\w+"', "", page)  # no internal codes

    # The API's events, from the same chain.
    response = api.as_user(requester).get(f"/api/requests/{in_review.pk}/events/")
    assert response.status_code == 200
    kinds = [event["kind"] for event in response.json()]
    assert kinds.count("reminder_sent") == 4 and kinds.count("escalated") == 2
    escalation = next(e for e in response.json() if e["kind"] == "escalated")
    assert escalation["actor"] is None  # sent by Tandem, not by a person
    assert escalation["payload"]["to"] in ("the CIO", "the CPO")

    # The evidence packet exports them, and it verifies.
    settings.TANDEM_AUDIT_SIGNING_KEY = generate_key()[0]
    client.force_login(requester)
    content = client.get(f"/approvals/requests/{in_review.pk}/evidence.zip").content
    archive = zipfile.ZipFile(io.BytesIO(content))
    packet = json.loads(archive.read("packet.json"))
    kinds = [event["record"]["kind"] for event in packet["events"]]
    assert kinds.count("reminder_sent") == 4 and kinds.count("escalated") == 2
    assert (
        "Reminder sent to IT review (Ivan Novak or 2 others)"
        in archive.read("packet.html").decode()
    )
    report = verify(packet)
    assert not [p for p in report.problems if "checkpoint" not in p]  # no checkpoint signed yet

    assert verify_chain().intact


def test_a_decided_step_is_reminded_no_more_and_records_nothing(in_review, ivan):
    decide_step(in_review.steps.get(side="it"), by=ivan, decision="approve")
    assert sweep_twice_at(48) == (1, 0)  # procurement's only
    assert [payload["side"] for _, payload in alert_events(in_review)] == ["procurement"]


@pytest.fixture
def approved(requester, it_reviewer, procurement):
    with time_machine.travel(START, tick=False):
        purchase_request = workflow.submit_request(
            PurchaseRequestFactory(requester=requester), by=requester
        )
        for step, person in (("it", it_reviewer), ("procurement", procurement)):
            decide_step(purchase_request.steps.get(side=step), by=person, decision="approve")
    purchase_request.refresh_from_db()
    return purchase_request


def timeline_of(client, user, purchase_request) -> str:
    client.force_login(user)
    return client.get(f"/requests/{purchase_request.pk}/").content.decode()


@pytest.mark.usefixtures("group_items_at_once")  # the e-mail at once, not in the digest
def test_the_order_and_receipt_work_items_reminders_are_in_the_timeline(
    client, approved, requester, procurement, cpo
):
    assert sweep_twice_at(72) == (1, 0)  # the order is due after 72 h
    assert sweep_twice_at(120) == (2, 0)  # a repeat and the escalation after 120 h
    page = timeline_of(client, requester, approved)
    assert f"Reminder sent to Procurement ({procurement}) to place the order" in page
    assert "Escalated to the CPO after 120 working hours: the order is not placed yet" in page
    with time_machine.travel(START + timedelta(hours=121), tick=False):
        workflow.mark_ordered(approved, by=procurement, po_number="PO-9", ordered_on=date.today())
    assert sweep_twice_at(121 + 336) == (1, 0)  # receipt is due two weeks after the order
    receipt = approved.steps.get(kind=StepKind.RECEIPT)
    assert [p["step"] for k, p in alert_events(approved) if k == "reminder_sent"][-1] == receipt.pk
    page = timeline_of(client, requester, approved)
    assert f"Reminder sent to {requester} to confirm receipt" in page
    assert verify_chain().intact


def test_a_vendor_reviews_reminders_are_in_the_vendors_timeline(
    client, requester, it_reviewer, procurement, cio
):
    with time_machine.travel(START, tick=False):
        workflow.submit_request(
            PurchaseRequestFactory(
                requester=requester,
                vendor=None,
                proposed_vendor_name="Acme Analytics",
                proposed_vendor_website="https://acme.example",
            ),
            by=requester,
        )
    vendor = Vendor.objects.get(name="Acme Analytics")
    assert sweep_twice_at(72) == (2, 0)  # the vendor review's SLA
    assert [p["side"] for _, p in alert_events(vendor)] == ["it", "procurement"]
    client.force_login(cio)
    page = client.get(vendor.get_absolute_url()).content.decode()
    assert f"Reminder sent to IT review ({it_reviewer})" in page
    assert f"Reminder sent to Procurement ({procurement})" in page


def test_a_second_opinion_reminder_is_one_event(client, settings, in_review, ivan, cio, requester):
    settings.TANDEM_CONSULTATION_REMIND_AFTER_HOURS = 6
    with time_machine.travel(START, tick=False):
        approval_services.ask_colleague(
            in_review.steps.get(side="it"), by=ivan, colleague=cio, question="On our list?"
        )
    for hours in (6, 6, 30):
        with time_machine.travel(START + timedelta(hours=hours), tick=False):
            sweep_due_consultations()
    assert [kind for kind, _ in alert_events(in_review)] == ["consultation_reminded"]
    page = timeline_of(client, requester, in_review)
    assert f"Reminded {cio} of Ivan Novak’s question on the IT review step" in page
    assert verify_chain().intact
