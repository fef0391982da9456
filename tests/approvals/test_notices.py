"""Notifications that say something and do not go stale (issue 13, item 6): each names who
acted, the request's title and the reason or comment; opening the page it points to reads it;
deciding a step settles the other group members' "for your decision" notices."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from approvals import services, workflow
from approvals.reminders import sweep_due_steps
from notifications.services import notices_of, unread_for
from tests.factories import PurchaseRequestFactory, UserFactory, VendorFactory

pytestmark = pytest.mark.django_db


def in_app(user, **filters):
    """What the user sees in the app: their own notices and their groups'."""
    return notices_of(user).filter(**filters)


@pytest.fixture
def second_it_reviewer(db):
    from accounts import roles

    return UserFactory(username="ines", roles=[roles.IT_REVIEWERS])


@pytest.fixture
def in_review(requester, it_reviewer, second_it_reviewer, procurement, cio, cpo):
    purchase_request = PurchaseRequestFactory(requester=requester, title="Figma for the UX team")
    return workflow.submit_request(purchase_request, by=requester)


def test_for_your_decision_names_who_submitted_the_title_and_why(
    in_review, requester, it_reviewer, django_capture_on_commit_callbacks
):
    notice = in_app(it_reviewer).get()
    assert "Figma for the UX team" in notice.subject
    assert f"{requester} submitted it" in notice.summary
    step = in_review.steps.get(side="it")
    assert step.reasons and step.reasons[0] in notice.summary  # why this step
    assert notice.topic == f"step:{step.pk}"


def test_notices_say_the_title_once_in_subject_and_summary(
    in_review, requester, it_reviewer, procurement
):
    """The inbox shows subject and summary together (issue 29, item 9): the title is the
    subject's, the lines say "the request from Rita"."""
    services.decide_step(in_review.steps.get(side="it"), by=it_reviewer, decision="approve")
    services.decide_step(
        in_review.steps.get(side="procurement"), by=procurement, decision="approve"
    )
    notices = [
        in_app(it_reviewer).get(subject__startswith="For your decision"),
        in_app(requester).get(subject__contains="approved by"),
        in_app(procurement).get(subject__startswith="To order"),
    ]
    for notice in notices:
        said = f"{notice.subject}\n{notice.summary}"
        assert said.count("Figma for the UX team") == 1, said
        assert said.count(in_review.number) == 1, said
    assert f"the request from {requester}" in notices[0].summary
    assert "your request was approved" in notices[1].summary


def test_the_next_stage_names_the_approver_and_their_comment(
    leadership_rules, requester, it_reviewer, procurement, cio, cpo
):
    purchase_request = workflow.submit_request(
        PurchaseRequestFactory(
            requester=requester,
            title="Salesforce seats",
            total_cost=30_000,
            handles_personal_data=True,
            vendor=VendorFactory(status="prospective"),
        ),
        by=requester,
    )
    services.decide_step(
        purchase_request.steps.get(side="it", stage=1),
        by=it_reviewer,
        decision="approve",
        comment="Security checked",
    )
    services.decide_step(
        purchase_request.steps.get(side="procurement", stage=1),
        by=procurement,
        decision="approve",
        comment="Terms fine",
    )
    notice = in_app(cio).get()
    assert "Salesforce seats" in notice.subject
    assert f"{procurement} approved stage 1 (“Terms fine”)" in notice.summary
    step = purchase_request.steps.get(side="it", stage=2)
    assert f"Why this step: {step.reasons[0]}" in notice.summary


def test_the_decision_names_the_decider_the_title_and_the_reason(
    in_review, requester, procurement, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.decide_step(
            in_review.steps.get(side="procurement"),
            by=procurement,
            decision="reject",
            comment="We already hold a licence",
        )
    notice = in_app(requester).get()
    assert "Figma for the UX team" in notice.subject and str(procurement) in notice.subject
    assert "We already hold a licence" in notice.summary
    [email] = [m for m in mail.outbox if requester.email in m.to]
    assert str(procurement) in email.body and "We already hold a licence" in email.body
    assert "Figma for the UX team" in email.subject


def test_opening_the_page_reads_its_notifications(client, in_review, it_reviewer, procurement):
    other = PurchaseRequestFactory(title="Another tool")
    workflow.submit_request(other, by=other.requester)
    assert unread_for(it_reviewer).count() == 2
    client.force_login(it_reviewer)
    assert client.get("/notifications/").context["unread_notifications"] == 2
    client.get(in_review.get_absolute_url())
    assert list(unread_for(it_reviewer).values_list("url", flat=True)) == [
        f"{other.get_absolute_url()}#steps"
    ]
    assert in_app(it_reviewer, url__startswith=in_review.get_absolute_url()).get().is_read
    assert unread_for(procurement).count() == 2  # only the reader's own


def test_opening_the_page_from_the_email_link_reads_the_in_app_notice(
    client, in_review, it_reviewer, django_capture_on_commit_callbacks
):
    """The e-mail links to the page; whatever the way in, being there reads it."""
    notice = in_app(it_reviewer).get()
    assert not notice.is_read
    client.force_login(it_reviewer)
    client.get(notice.url.split("#")[0])
    assert in_app(it_reviewer).get(pk=notice.pk).is_read


def test_deciding_settles_the_other_group_members_notices(
    client, in_review, it_reviewer, second_it_reviewer
):
    step = in_review.steps.get(side="it")
    services.decide_step(step, by=it_reviewer, decision="approve", comment="Fine")
    theirs = in_app(second_it_reviewer).get()
    assert theirs.done_at is not None and not theirs.is_read
    assert theirs.done_note == f"{it_reviewer} approved"
    assert unread_for(second_it_reviewer).count() == 0
    client.force_login(second_it_reviewer)
    inbox = client.get("/notifications/")
    assert inbox.context["unread_notifications"] == 0
    page = inbox.content.decode()
    assert 'data-done="true"' in page and f"{it_reviewer} approved" in page


def test_reminders_are_settled_too_and_a_rejection_settles_the_other_side(
    in_review, it_reviewer, second_it_reviewer, procurement
):
    with time_machine.travel(timezone.now() + timedelta(hours=49), tick=False):
        sweep_due_steps()
    assert in_app(second_it_reviewer, subject__startswith="Reminder").count() == 1
    assert in_app(procurement, subject__startswith="Reminder").count() == 1
    services.decide_step(
        in_review.steps.get(side="procurement"),
        by=procurement,
        decision="reject",
        comment="Duplicate",
    )
    # The procurement step was decided; the IT step was closed by that decision.
    assert not unread_for(second_it_reviewer).exists()
    assert not unread_for(it_reviewer).exists()
    assert not unread_for(procurement).exists()
    assert (
        in_app(second_it_reviewer).values_list("done_note", flat=True).distinct().get()
        == f"Closed: {procurement} rejected the Procurement step"
    )


def test_other_notifications_are_not_settled(in_review, requester, procurement, second_it_reviewer):
    services.decide_step(
        in_review.steps.get(side="procurement"), by=procurement, decision="approve"
    )
    assert in_app(requester).count() == 0  # nothing decided for the requester yet
    services.decide_step(in_review.steps.get(side="it"), by=second_it_reviewer, decision="approve")
    decided = in_app(requester).get()
    assert decided.done_at is None and decided.topic == ""


def test_opening_waiting_for_me_reads_the_digest(client, in_review, cio):
    from approvals.digest import send_daily_digest

    send_daily_digest()
    assert unread_for(cio).get().url == "/approvals/"
    client.force_login(cio)
    client.get("/approvals/")
    assert not unread_for(cio).exists()
