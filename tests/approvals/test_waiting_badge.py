"""The navigation's *Waiting for me* badge counts the questions asked of the reader beside the
steps waiting for them (issue 29, item 9), in one query once the reader's groups are read."""

import pytest

from approvals import selectors, services

pytestmark = pytest.mark.django_db


@pytest.fixture
def it_step(submitted, it_reviewer, procurement, cio, cpo):
    return submitted(title="Miro for the design team").steps.get(side="it")


def test_a_question_asked_of_me_counts_in_the_badge(
    client, it_step, it_reviewer, cio, django_assert_num_queries
):
    before = selectors.awaiting_count(cio)
    services.ask_colleague(it_step, by=it_reviewer, colleague=cio, question="On our list?")
    with django_assert_num_queries(1):
        assert selectors.awaiting_count(cio) == before + 1
    client.force_login(cio)
    page = client.get("/approvals/").content.decode()
    assert f'id="waiting-count">{before + 1}</span>' in page


def test_an_answered_question_no_longer_counts(it_step, it_reviewer, cio):
    before = selectors.awaiting_count(cio)
    asked = services.ask_colleague(it_step, by=it_reviewer, colleague=cio, question="Ok?")
    services.answer_consultation(asked, by=cio, answer="Yes.")
    assert selectors.awaiting_count(cio) == before
