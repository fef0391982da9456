"""Second opinions at the same moment, on PostgreSQL with real threads: two answers, two
sweeps, an answer racing the decision. Exactly one outcome each; the loser gets a clear 409."""

from datetime import timedelta

import pytest
import time_machine

from approvals.models import Consultation, ConsultationReminder, StepState
from approvals.reminders import sweep_due_consultations
from approvals.services import answer_consultation, ask_colleague, decide_step
from audit.models import AuditEvent
from core.errors import TransitionNotAllowed
from notifications.models import Notification
from tests.approvals.test_concurrency import run_together

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def asked(submitted, it_reviewer, cio):
    step = submitted().steps.get(side="it")
    return ask_colleague(step, by=it_reviewer, colleague=cio, question="Ok?")


@pytest.mark.parametrize("attempt", range(3))
def test_two_answers_at_once_have_one_winner(asked, cio, attempt):
    outcomes = run_together(
        lambda: answer_consultation(asked, by=cio, answer="First"),
        lambda: answer_consultation(asked, by=cio, answer="Second"),
    )
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], TransitionNotAllowed), outcomes
    assert "already answered" in str(errors[0])
    assert AuditEvent.objects.filter(kind="consultation_answered").count() == 1


@pytest.mark.parametrize("attempt", range(3))
def test_two_sweeps_at_once_remind_once(asked, attempt):
    later = asked.remind_at + timedelta(minutes=1)

    def sweep():
        with time_machine.travel(later, tick=False):
            return sweep_due_consultations()

    assert sorted(run_together(sweep, sweep)) == [0, 1]
    assert ConsultationReminder.objects.count() == 1
    assert (
        Notification.objects.filter(subject__startswith="Reminder", channel="in_app").count() == 1
    )


@pytest.mark.parametrize("attempt", range(3))
def test_an_answer_racing_the_decision_is_either_recorded_or_refused(
    asked, it_reviewer, cio, attempt
):
    outcomes = run_together(
        lambda: answer_consultation(asked, by=cio, answer="Fine"),
        lambda: decide_step(asked.step, by=it_reviewer, decision="approve"),
    )
    asked.refresh_from_db()
    assert asked.step.state == StepState.APPROVED
    if isinstance(outcomes[0], Exception):
        assert isinstance(outcomes[0], TransitionNotAllowed) and not asked.is_answered
    else:
        assert asked.answer == "Fine"
    assert Consultation.objects.count() == 1
