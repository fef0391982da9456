"""Bounded free text (issue #27): every free-text field a person can write (descriptions,
justifications, expected benefit, integration details, comments, decision comments, reasons,
second-opinion questions and answers, vendor notes, rating comments) holds at most
core.validation.MAX_TEXT characters, on every way in. One longer is refused with the same
words, on the API (400) and on the page, and nothing is stored; one at the limit is stored.

A table: each row is one field on one path (page form, API, e-mail link, e-mail reply, Slack)."""

from email.message import EmailMessage
from types import SimpleNamespace

import pytest

from approvals import services as approval_services
from approvals import workflow
from approvals.models import ApprovalStep, Consultation
from core.validation import MAX_TEXT
from intake.models import Comment, PurchaseRequest, State
from reach import inbound, slack
from reach import services as reach_services
from reach.models import SlackAccount, TokenKind
from tests.factories import PurchaseRequestFactory
from tests.security.bad_input_support import LIST, NEW, form_data
from vendors.models import Vendor, VendorRating

pytestmark = pytest.mark.django_db

REFUSAL = "Keep it under 20,000 characters: this is 20,001."
TRUSTED = "mx.tandem.example"


@pytest.fixture
def world(client, api, settings, requester, it_reviewer, procurement, cio, cpo):
    settings.TANDEM_INBOUND_ADDRESS = "decide@reply.tandem.example"
    settings.TANDEM_INBOUND_TRUSTED_AUTHSERV_IDS = [TRUSTED]
    return SimpleNamespace(
        client=client, api=api, requester=requester, it_reviewer=it_reviewer,
        procurement=procurement, cio=cio,
    )  # fmt: skip


def seen(response) -> str:
    return response.content.decode()


# Purchase requests: the "New request" and edit forms, POST and PATCH in the API


REQUEST_TEXTS = ["description", "business_justification", "expected_benefit", "integration_details"]


def request_form_new(field):
    def run(w, text):
        w.client.force_login(w.requester)
        response = w.client.post(NEW, form_data(**{field: text}))
        return response, PurchaseRequest.objects.filter(**{field: text}).exists()

    return run


def request_form_edit(field):
    def run(w, text):
        draft = PurchaseRequestFactory(requester=w.requester)
        w.client.force_login(w.requester)
        response = w.client.post(f"/requests/{draft.pk}/edit/", form_data(**{field: text}))
        return response, PurchaseRequest.objects.filter(**{field: text}).exists()

    return run


def request_api_create(field):
    def run(w, text):
        response = w.api.as_user(w.requester).post(
            LIST, {"title": "Seats", field: text}, format="json"
        )
        return response, PurchaseRequest.objects.filter(**{field: text}).exists()

    return run


def request_api_change(field):
    def run(w, text):
        draft = PurchaseRequestFactory(requester=w.requester)
        response = w.api.as_user(w.requester).patch(
            f"{LIST}{draft.pk}/", {field: text}, format="json"
        )
        return response, PurchaseRequest.objects.filter(**{field: text}).exists()

    return run


# Comments on a request


def comment_page(w, text):
    purchase_request = PurchaseRequestFactory(requester=w.requester)
    w.client.force_login(w.requester)
    response = w.client.post(
        f"/requests/{purchase_request.pk}/comments/", {"body": text}, follow=True
    )
    return response, Comment.objects.filter(body=text).exists()


def comment_api(w, text):
    purchase_request = PurchaseRequestFactory(requester=w.requester)
    response = w.api.as_user(w.requester).post(
        f"{LIST}{purchase_request.pk}/comments/", {"body": text}, format="json"
    )
    return response, Comment.objects.filter(body=text).exists()


# A decision's comment: page, API, e-mail link, e-mail reply, Slack (the last two answer in
# words, not in a page)


def open_it_step(w) -> ApprovalStep:
    purchase_request = workflow.submit_request(
        PurchaseRequestFactory(requester=w.requester), by=w.requester
    )
    return purchase_request.steps.get(side="it")


def decided_with(text) -> bool:
    return ApprovalStep.objects.filter(comment=text, state="rejected").exists()


def decision_page(w, text):
    step = open_it_step(w)
    w.client.force_login(w.it_reviewer)
    response = w.client.post(f"/approvals/steps/{step.pk}/reject/", {"comment": text}, follow=True)
    return response, decided_with(text)


def decision_api(w, text):
    step = open_it_step(w)
    response = w.api.as_user(w.it_reviewer).post(
        f"/api/steps/{step.pk}/reject/", {"comment": text}, format="json"
    )
    return response, decided_with(text)


def decision_email_link(w, text):
    step = open_it_step(w)
    token = reach_services.issue_token(w.it_reviewer, step, TokenKind.LINK)
    w.client.force_login(w.it_reviewer)
    response = w.client.post(f"/decide/{token}/", {"decision": "reject", "comment": text})
    return response, decided_with(text)


def decision_email_reply(w, text):
    step = open_it_step(w)
    token = reach_services.issue_token(w.it_reviewer, step, TokenKind.REPLY)
    message = EmailMessage()
    message["From"] = f"Ivan <{w.it_reviewer.email}>"
    message["To"] = f"decide+{token}@reply.tandem.example"
    message["Subject"] = "Re: For your decision"
    message["Message-ID"] = "<reply-limit@tandem.example>"
    message["Authentication-Results"] = f"{TRUSTED}; dmarc=pass header.from=tandem.example"
    message.set_content(f"reject: {text}\n")
    outcome = inbound.handle(message.as_bytes())
    return SimpleNamespace(status_code=400 if outcome.startswith("Nothing") else 200,
                           content=outcome.encode()), decided_with(text)  # fmt: skip


def decision_slack(w, text):
    step = open_it_step(w)
    SlackAccount.objects.create(user=w.it_reviewer, slack_user_id="UIVAN")
    decided, answer = slack.decide(step.pk, "reject", "UIVAN", comment=text)
    return SimpleNamespace(status_code=200 if decided else 400, content=answer.encode()), (
        decided_with(text)
    )


# A withdrawal's reason (API)


def withdraw_api(w, text):
    purchase_request = workflow.submit_request(
        PurchaseRequestFactory(requester=w.requester), by=w.requester
    )
    response = w.api.as_user(w.requester).post(
        f"{LIST}{purchase_request.pk}/withdraw/", {"reason": text}, format="json"
    )
    purchase_request.refresh_from_db()
    return response, purchase_request.state == State.WITHDRAWN


# Second opinions: the question and the answer


def question_page(w, text):
    step = open_it_step(w)
    w.client.force_login(w.it_reviewer)
    response = w.client.post(
        f"/approvals/steps/{step.pk}/consult/",
        {"colleague": w.cio.pk, "question": text},
        follow=True,
    )
    return response, Consultation.objects.filter(question=text).exists()


def question_api(w, text):
    step = open_it_step(w)
    response = w.api.as_user(w.it_reviewer).post(
        f"/api/steps/{step.pk}/consult/",
        {"colleague": w.cio.username, "question": text},
        format="json",
    )
    return response, Consultation.objects.filter(question=text).exists()


def asked(w) -> Consultation:
    return approval_services.ask_colleague(
        open_it_step(w), by=w.it_reviewer, colleague=w.cio, question="On our list?"
    )


def answer_page(w, text):
    consultation = asked(w)
    w.client.force_login(w.cio)
    response = w.client.post(
        f"/approvals/consultations/{consultation.pk}/answer/", {"answer": text}, follow=True
    )
    return response, Consultation.objects.filter(answer=text).exists()


def answer_api(w, text):
    consultation = asked(w)
    response = w.api.as_user(w.cio).post(
        f"/api/consultations/{consultation.pk}/answer/", {"answer": text}, format="json"
    )
    return response, Consultation.objects.filter(answer=text).exists()


# Vendors: conditions of approval and sustainability notes; a rating's comment


def vendor_page(field):
    def run(w, text):
        w.client.force_login(w.procurement)
        response = w.client.post("/vendors/new/", {"name": "Northwind", field: text})
        return response, Vendor.objects.filter(**{field: text}).exists()

    return run


def vendor_api(field):
    def run(w, text):
        response = w.api.as_user(w.procurement).post(
            "/api/vendors/", {"name": "Northwind", field: text}, format="json"
        )
        return response, Vendor.objects.filter(**{field: text}).exists()

    return run


SCORES = {"delivery": 5, "quality": 4, "support": 3}


def rating_page(w, text):
    closed = PurchaseRequestFactory(requester=w.requester, state=State.CLOSED)
    w.client.force_login(w.requester)
    response = w.client.post(
        f"/requests/{closed.pk}/rate/", {**SCORES, "comment": text}, follow=True
    )
    return response, VendorRating.objects.filter(comment=text).exists()


def rating_api(w, text):
    closed = PurchaseRequestFactory(requester=w.requester, state=State.CLOSED)
    response = w.api.as_user(w.requester).post(
        f"/api/vendors/{closed.vendor_id}/ratings/",
        {"request": closed.pk, **SCORES, "comment": text},
        format="json",
    )
    return response, VendorRating.objects.filter(comment=text).exists()


# (path, the status of a refusal): a page re-shown with the field's error (200), a page that
# goes on and says why in a message (200 after the redirect), or 400
PATHS = {
    **{f"request {f}: new request form": (request_form_new(f), 200) for f in REQUEST_TEXTS},
    **{f"request {f}: edit form": (request_form_edit(f), 200) for f in REQUEST_TEXTS},
    **{f"request {f}: API POST": (request_api_create(f), 400) for f in REQUEST_TEXTS},
    **{f"request {f}: API PATCH": (request_api_change(f), 400) for f in REQUEST_TEXTS},
    "comment: page": (comment_page, 200),
    "comment: API": (comment_api, 400),
    "decision comment: page": (decision_page, 400),  # the page again, the error at its box
    "decision comment: API": (decision_api, 400),
    "decision comment: e-mail link": (decision_email_link, 400),
    "decision comment: e-mail reply": (decision_email_reply, 400),
    "decision comment: Slack": (decision_slack, 400),
    "withdrawal reason: API": (withdraw_api, 400),
    "second-opinion question: page": (question_page, 200),
    "second-opinion question: API": (question_api, 400),
    "second-opinion answer: page": (answer_page, 200),
    "second-opinion answer: API": (answer_api, 400),
    **{f"vendor {f}: page": (vendor_page(f), 200) for f in ("conditions", "sustainability_notes")},
    **{f"vendor {f}: API": (vendor_api(f), 400) for f in ("conditions", "sustainability_notes")},
    "rating comment: page": (rating_page, 200),
    "rating comment: API": (rating_api, 400),
}


@pytest.mark.parametrize(("path", "refused_status"), PATHS.values(), ids=PATHS.keys())
def test_free_text_over_the_limit_is_refused_with_its_length_and_not_stored(
    world, path, refused_status
):
    response, stored = path(world, "x" * (MAX_TEXT + 1))
    assert response.status_code == refused_status
    assert REFUSAL in seen(response)
    assert not stored


@pytest.mark.parametrize("path", [path for path, _ in PATHS.values()], ids=PATHS.keys())
def test_free_text_at_the_limit_is_stored(world, path):
    response, stored = path(world, "x" * MAX_TEXT)
    assert response.status_code < 500
    assert "Keep it under" not in seen(response)
    assert stored


def test_the_services_refuse_what_no_form_or_serializer_checked(world):
    """Every way in reaches the same services: one called with text past the limit (as an
    e-mail reply or a Slack modal does) refuses it too, naming the field."""
    from django.core.exceptions import ValidationError

    step = open_it_step(world)
    too_long = "x" * (MAX_TEXT + 1)
    calls = {
        "comment": lambda: approval_services.decide_step(
            step, by=world.it_reviewer, decision="approve", comment=too_long
        ),
        "question": lambda: approval_services.ask_colleague(
            step, by=world.it_reviewer, colleague=world.cio, question=too_long
        ),
        "reason": lambda: workflow.withdraw_request(
            step.request, by=world.requester, reason=too_long
        ),
    }
    for field, call in calls.items():
        with pytest.raises(ValidationError) as refused:
            call()
        assert refused.value.message_dict == {field: [REFUSAL]}
    step.refresh_from_db()
    assert step.state == "open"
