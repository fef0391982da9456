"""Second opinions (SPEC §3): a reviewer who may decide an open step asks a named colleague a
question; the colleague sees the request, answers, and never gains a right to decide; an
unanswered question is reminded once, through the sweep's unique key."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from approvals import policies, selectors, services, workflow
from approvals.models import Consultation, ConsultationReminder
from approvals.reminders import remind_consultation, sweep_due_consultations
from audit.models import AuditEvent
from core.formats import when
from notifications.models import Channel, Notification
from tests.factories import PurchaseRequestFactory, UserFactory

pytestmark = pytest.mark.django_db


def consult(api, step, colleague="cora", question="Is this tool on our architecture list?"):
    return api.post(
        f"/api/steps/{step.pk}/consult/",
        {"colleague": colleague, "question": question},
        format="json",
    )


def answer(api, consultation_id, text="Yes, approved last year."):
    return api.post(
        f"/api/consultations/{consultation_id}/answer/", {"answer": text}, format="json"
    )


@pytest.fixture
def it_step(submitted, it_reviewer, procurement, cio, cpo):
    return submitted(title="Miro for the design team").steps.get(side="it")


@pytest.fixture
def asked(it_step, it_reviewer, cio, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return services.ask_colleague(
            it_step, by=it_reviewer, colleague=cio, question="Is Miro on our architecture list?"
        )


def in_app(user):
    return Notification.objects.filter(recipient=user, channel=Channel.IN_APP)


# The round trip through the API


def test_round_trip_through_the_api(
    api, it_step, it_reviewer, cio, requester, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = consult(api.as_user(it_reviewer), it_step)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["asked_by"], body["colleague"], body["colleague_username"]) == (
        str(it_reviewer),
        str(cio),
        "cora",
    )
    assert (body["answered"], body["answer"]) == (False, "")

    # The colleague is told who asks, about which request, and what.
    told = in_app(cio).get()
    assert str(it_reviewer) in told.subject and "Miro for the design team" in told.subject
    assert "Is this tool on our architecture list?" in told.summary
    assert f"#consultation-{body['id']}" in told.url
    assert any("cora@" in m.to[0] and "Miro" in m.subject for m in mail.outbox)

    # The colleague sees the request and answers.
    assert api.as_user(cio).get(f"/api/requests/{it_step.request_id}/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = answer(api.as_user(cio), body["id"], "Yes, approved last year.")
    assert response.status_code == 200, response.json()
    assert (response.json()["answered"], response.json()["answer"]) == (
        True,
        "Yes, approved last year.",
    )
    assert (
        "Yes, approved last year." in in_app(it_reviewer).get(subject__contains="answered").summary
    )

    # Question and answer sit on the step, for everyone who sees the steps.
    steps = api.as_user(requester).get(f"/api/requests/{it_step.request_id}/steps/").json()
    [it] = [s for s in steps if s["side"] == "it"]
    [listed] = it["consultations"]
    assert (listed["question"], listed["answer"]) == (
        "Is this tool on our architecture list?",
        "Yes, approved last year.",
    )
    # ... and in the timeline.
    kinds = list(
        AuditEvent.objects.for_object(it_step.request)
        .filter(kind__startswith="consultation")
        .values_list("kind", "actor__username")
    )
    assert kinds == [("consultation_asked", "ivan"), ("consultation_answered", "cora")]


def test_the_colleague_gets_no_decision_power(api, it_step, it_reviewer, cio):
    """Being asked changes neither `can_decide` nor its SQL form: before, while open and after
    the answer, the colleague decides nothing they could not decide before."""

    def rights():
        cio.__dict__.pop("_reviewer_identity", None)
        it_step.request.__dict__.pop("_four_eyes_people", None)
        return (
            policies.can_decide(cio, it_step).allowed,
            set(policies.decidable_steps(cio).values_list("pk", flat=True)),
        )

    before = rights()
    assert before[0] is False and it_step.pk not in before[1]
    consultation = services.ask_colleague(it_step, by=it_reviewer, colleague=cio, question="Ok?")
    assert rights() == before
    assert api.as_user(cio).post(f"/api/steps/{it_step.pk}/approve/", {}).status_code == 403
    services.answer_consultation(consultation, by=cio, answer="Fine with me.")
    assert rights() == before
    assert api.as_user(cio).post(f"/api/steps/{it_step.pk}/approve/", {}).status_code == 403
    assert it_step.pk not in set(selectors.steps_awaiting(cio).values_list("pk", flat=True))
    it_step.refresh_from_db()
    assert it_step.state == "open"


def test_a_procurement_colleague_asked_on_the_it_side_cannot_decide_it(
    api, it_step, it_reviewer, procurement
):
    consultation = services.ask_colleague(
        it_step, by=it_reviewer, colleague=procurement, question="Any licence already?"
    )
    assert not policies.can_decide(procurement, it_step)
    services.answer_consultation(consultation, by=procurement, answer="None found.")
    assert api.as_user(procurement).post(f"/api/steps/{it_step.pk}/approve/", {}).status_code == 403


# 400, 401, 403, 404, 409


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"colleague": "cora"}, "question"),
        ({"colleague": "cora", "question": "   "}, "question"),
        ({"question": "Ok?"}, "colleague"),
        ({"colleague": "nobody-here", "question": "Ok?"}, "colleague"),
        ({"colleague": ["cora"], "question": "Ok?"}, "colleague"),
        ({"colleague": "rita", "question": "Ok?"}, "colleague"),  # the requester
        ({"colleague": "ivan", "question": "Ok?"}, "colleague"),  # oneself
        ({"colleague": "oscar", "question": "Ok?"}, "colleague"),  # not a reviewer
    ],
)
def test_bad_consult_input_is_400_naming_the_field(
    api, it_step, it_reviewer, other_requester, payload, field
):
    response = api.as_user(it_reviewer).post(
        f"/api/steps/{it_step.pk}/consult/", payload, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()
    assert not Consultation.objects.exists()


def test_requester_is_never_asked_and_the_reason_is_given(api, it_step, it_reviewer):
    response = consult(api.as_user(it_reviewer), it_step, colleague="rita")
    assert "requester is never asked" in response.json()["colleague"][0]


def test_empty_answer_is_400(api, asked, cio):
    response = answer(api.as_user(cio), asked.pk, "  ")
    assert response.status_code == 400
    assert "answer" in response.json()


def test_without_credentials_is_401(api, it_step, asked):
    assert consult(api, it_step).status_code == 401
    assert answer(api, asked.pk).status_code == 401


def test_a_reviewer_who_may_not_decide_the_step_is_403(api, it_step, procurement):
    response = consult(api.as_user(procurement), it_step)
    assert response.status_code == 403
    assert "Only a reviewer who may decide this step" in response.json()["detail"]


def test_the_requester_cannot_ask_about_their_own_step(api, it_step, requester):
    assert consult(api.as_user(requester), it_step).status_code == 403


def test_only_the_colleague_answers_403(api, asked, it_reviewer, procurement):
    for other in (it_reviewer, procurement):
        response = answer(api.as_user(other), asked.pk)
        assert response.status_code == 403
        assert "only they answer it" in response.json()["detail"]


def test_what_the_user_cannot_see_is_404(api, it_step, asked, other_requester):
    assert consult(api.as_user(other_requester), it_step).status_code == 404
    assert answer(api.as_user(other_requester), asked.pk).status_code == 404
    assert api.as_user(other_requester).get(f"/api/consultations/{asked.pk}/").status_code == 404
    assert answer(api.as_user(other_requester), 999_999).status_code == 404


def test_answering_twice_is_409(api, asked, cio):
    assert answer(api.as_user(cio), asked.pk, "First").status_code == 200
    response = answer(api.as_user(cio), asked.pk, "Second")
    assert response.status_code == 409
    assert "already answered" in response.json()["detail"]
    asked.refresh_from_db()
    assert asked.answer == "First"


def test_asking_the_same_colleague_again_before_the_answer_is_409(api, it_step, asked, cio):
    response = consult(api.as_user(asked.asked_by), it_step)
    assert response.status_code == 409
    services.answer_consultation(asked, by=cio, answer="Yes.")
    assert consult(api.as_user(asked.asked_by), it_step).status_code == 201


def test_asking_on_a_decided_step_is_409(api, it_step, it_reviewer):
    services.decide_step(it_step, by=it_reviewer, decision="approve")
    response = consult(api.as_user(it_reviewer), it_step)
    assert response.status_code == 409
    assert "already approved" in response.json()["detail"]


def test_answering_after_the_step_was_decided_is_409(api, it_step, asked, it_reviewer, cio):
    services.decide_step(it_step, by=it_reviewer, decision="approve")
    response = answer(api.as_user(cio), asked.pk)
    assert response.status_code == 409
    assert "add a comment instead" in response.json()["detail"]


def test_a_delegate_asks_with_the_delegators_rights(api, it_step, it_reviewer, cio):
    from accounts.models import Delegation

    deputy = UserFactory(username="dana")
    Delegation.objects.create(
        delegator=it_reviewer,
        delegate=deputy,
        starts_at=timezone.now() - timedelta(hours=1),
        ends_at=timezone.now() + timedelta(days=1),
    )
    assert consult(api.as_user(deputy), it_step).status_code == 201
    event = AuditEvent.objects.get(kind="consultation_asked")
    assert (event.actor, event.on_behalf_of) == (deputy, it_reviewer)


# The reminder, once


def test_an_unanswered_question_is_reminded_once_after_the_configured_time(
    settings, it_step, it_reviewer, cio, django_capture_on_commit_callbacks
):
    settings.TANDEM_CONSULTATION_REMIND_AFTER_HOURS = 6
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False):
        consultation = services.ask_colleague(
            it_step, by=it_reviewer, colleague=cio, question="Ok?"
        )
    with time_machine.travel(start + timedelta(hours=5, minutes=59), tick=False):
        assert sweep_due_consultations() == 0
    for hours in (6, 7, 30):  # a second sweep, a retry, days later: nothing more
        with (
            time_machine.travel(start + timedelta(hours=hours), tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            assert sweep_due_consultations() == (1 if hours == 6 else 0)
    assert ConsultationReminder.objects.filter(consultation=consultation).count() == 1
    [reminder] = in_app(cio).filter(subject__startswith="Reminder")
    assert str(it_reviewer) in reminder.subject and "Ok?" in reminder.summary
    assert [m.subject for m in mail.outbox if m.subject.startswith("Reminder")] == [
        reminder.subject
    ]


def test_the_unique_key_refuses_a_second_reminder_from_a_stale_run(asked):
    """Two schedulers that both read the consultation as due: the second inserts nothing."""
    stale = Consultation.objects.select_related("step", "asked_by", "colleague").get(pk=asked.pk)
    with time_machine.travel(asked.remind_at + timedelta(minutes=1), tick=False):
        assert remind_consultation(stale) == 1
        Consultation.objects.filter(pk=asked.pk).update(remind_at=asked.remind_at)  # as if unseen
        assert remind_consultation(stale) == 0
    assert ConsultationReminder.objects.count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        ConsultationReminder.objects.create(consultation=asked)


def test_answered_or_decided_consultations_are_not_reminded(
    it_step, asked, it_reviewer, cio, procurement
):
    services.answer_consultation(asked, by=cio, answer="Yes.")
    other = services.ask_colleague(it_step, by=it_reviewer, colleague=procurement, question="?")
    services.decide_step(it_step, by=it_reviewer, decision="approve")
    with time_machine.travel(timezone.now() + timedelta(days=3), tick=False):
        assert sweep_due_consultations() == 0
    assert not ConsultationReminder.objects.exists()
    other.refresh_from_db()
    assert other.remind_at is None  # cleared, not read again


def test_the_periodic_sweep_task_reminds_consultations(asked):
    from approvals.tasks import sweep_reminders

    with time_machine.travel(asked.remind_at + timedelta(minutes=1), tick=False):
        assert sweep_reminders.apply().get() >= 1
    assert ConsultationReminder.objects.filter(consultation=asked).exists()


# Lists and schema


@pytest.mark.parametrize("size", [2, 12])
def test_steps_list_with_consultations_runs_constant_queries(
    api, requester, it_reviewer, cio, procurement, django_assert_max_num_queries, size
):
    purchase_request = workflow.submit_request(
        PurchaseRequestFactory(requester=requester), by=requester
    )
    step = purchase_request.steps.get(side="it")
    for index in range(size):
        consultation = services.ask_colleague(
            step, by=it_reviewer, colleague=cio, question=f"Question {index}"
        )
        services.answer_consultation(consultation, by=cio, answer="Yes")
    client = api.as_user(requester)
    with django_assert_max_num_queries(8):
        response = client.get(f"/api/requests/{purchase_request.pk}/steps/")
    assert sum(len(s["consultations"]) for s in response.json()) == size


def test_the_schema_documents_consult_and_answer(api, cio):
    schema = api.as_user(cio).get("/api/schema/?format=json").json()
    consult_op = schema["paths"]["/api/steps/{id}/consult/"]["post"]
    assert {"201", "400", "403", "404", "409"} <= set(consult_op["responses"])
    ref = consult_op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    request_body = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert {"colleague", "question"} <= set(request_body["properties"])
    answer_op = schema["paths"]["/api/consultations/{id}/answer/"]["post"]
    assert {"200", "400", "403", "404", "409"} <= set(answer_op["responses"])
    step = schema["components"]["schemas"]["Step"]
    assert "consultations" in step["properties"]


# Pages


def test_ask_and_answer_through_the_pages(client, it_step, it_reviewer, cio):
    page = it_step.request.get_absolute_url()
    client.force_login(it_reviewer)
    response = client.get(page)
    assert b"Ask a colleague for a second opinion" in response.content
    response = client.post(
        f"/approvals/steps/{it_step.pk}/consult/",
        {"colleague": cio.pk, "question": "Is Miro on the list?"},
        follow=True,
    )
    assert "Your question was sent to" in response.content.decode()
    consultation = Consultation.objects.get()

    client.force_login(cio)
    waiting = client.get("/approvals/").content.decode()
    assert "Questions for you" in waiting and "Is Miro on the list?" in waiting
    detail = client.get(page).content.decode()
    assert f'action="/approvals/consultations/{consultation.pk}/answer/"' in detail
    assert "Ask a colleague for a second opinion" not in detail  # cora may not decide it
    # Dates as on every other page (core.formats.when), not "2026-12-03 10:00 CET".
    assert f"· {when(consultation.asked_at)}: “Is Miro on the list?”" in detail
    response = client.post(
        f"/approvals/consultations/{consultation.pk}/answer/", {"answer": "Yes."}, follow=True
    )
    assert f"Your answer was sent to {it_reviewer}" in response.content.decode()
    assert "Questions for you" not in client.get("/approvals/").content.decode()
    timeline = client.get(page).content.decode()
    assert "for a second opinion" in timeline and "question answered" in timeline


def test_page_errors_are_messages_not_5xx(client, it_step, it_reviewer, cio, procurement):
    client.force_login(it_reviewer)
    for data in ({}, {"colleague": "abc", "question": "x"}, {"colleague": it_reviewer.pk}):
        response = client.post(f"/approvals/steps/{it_step.pk}/consult/", data, follow=True)
        assert response.status_code == 200
    client.force_login(procurement)
    response = client.post(
        f"/approvals/steps/{it_step.pk}/consult/",
        {"colleague": cio.pk, "question": "?"},
        follow=True,
    )
    assert "Only a reviewer who may decide this step" in response.content.decode()
    assert client.post("/approvals/steps/999999/consult/", {}).status_code == 404
    assert client.post("/approvals/consultations/999999/answer/", {}).status_code == 404
    assert not Consultation.objects.exists()


def test_seed_demo_has_one_open_consultation_for_the_cio(client):
    from django.core.management import call_command

    call_command("seed_demo")
    call_command("seed_demo")
    consultation = Consultation.objects.select_related("asked_by", "colleague").get()
    assert (consultation.asked_by.username, consultation.colleague.username) == ("ivan", "cora")
    assert not consultation.is_answered and consultation.step.state == "open"
    client.force_login(consultation.colleague)
    assert "Questions for you" in client.get("/approvals/").content.decode()


def test_a_second_opinion_on_a_vendor_review(
    api, client, requester, it_reviewer, cio, django_capture_on_commit_callbacks
):
    """Vendor steps allow it too: on the vendor page and in the vendor's steps and timeline;
    whoever named the vendor on a request is never asked."""
    purchase_request = workflow.submit_request(
        PurchaseRequestFactory(
            requester=requester,
            vendor=None,
            proposed_vendor_name="Acme Analytics",
            proposed_vendor_website="https://acme.example",
        ),
        by=requester,
    )
    vendor = purchase_request.vendor
    step = vendor.steps.get(side="it")
    assert consult(api.as_user(it_reviewer), step, colleague="rita").status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        response = consult(api.as_user(it_reviewer), step, question="Do we know Acme?")
    assert response.status_code == 201
    assert (
        in_app(cio).get().url == f"{vendor.get_absolute_url()}#consultation-{response.json()['id']}"
    )
    [listed] = [
        s
        for s in api.as_user(cio).get(f"/api/vendors/{vendor.pk}/steps/").json()
        if s["side"] == "it"
    ][0]["consultations"]
    assert listed["question"] == "Do we know Acme?"
    client.force_login(cio)
    page = client.get(vendor.get_absolute_url()).content.decode()
    assert "Your answer to" in page and "for a second opinion" in page
    assert answer(api.as_user(cio), listed["id"], "Yes, from a pilot.").status_code == 200
    assert AuditEvent.objects.for_object(vendor).filter(kind="consultation_answered").exists()
