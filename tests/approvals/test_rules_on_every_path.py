"""One rule, every way in (issue 27, item 2): whom a reviewer may ask for a second opinion is
refused by the page and the API in the same words (`policies.can_be_consulted`, asked by
`services.ask_colleague` on both paths; the page's form no longer narrows the choice itself).
A question is only ever asked (there is no update path). Each row is a rule × a path."""

import html
import re

import pytest

from accounts import roles
from approvals.models import Consultation
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _left():
    return UserFactory(
        username="lena", first_name="Lena", last_name="Lind", roles=[roles.CIO], is_active=False
    )


RULES = {
    "someone who has left": (lambda step, asker: _left(), "Lena Lind no longer uses Tandem."),
    "oneself": (
        lambda step, asker: asker,
        "Ask somebody else: you cannot ask yourself for a second opinion.",
    ),
    "the requester": (
        lambda step, asker: step.request.requester,
        "{colleague} filed this request: the requester is never asked.",
    ),
    "someone who is no reviewer": (
        lambda step, asker: UserFactory(username="oscar"),
        "{colleague} is not a reviewer or leader: ask a member of IT, procurement, finance, "
        "the CIO or the CPO.",
    ),
}


def page_ask(client, api, asker, step, colleague):
    client.force_login(asker)
    response = client.post(
        f"/approvals/steps/{step.pk}/consult/",
        {"colleague": colleague.pk, "question": "Is it on our architecture list?"},
        follow=True,
    )
    page = response.content.decode()
    alerts = re.findall(r'<div class="alert alert-danger[^>]*>\s*(.*?)\s*<button', page, re.S)
    return response.status_code, [html.unescape(a) for a in alerts]


def api_ask(client, api, asker, step, colleague):
    response = api.as_user(asker).post(
        f"/api/steps/{step.pk}/consult/",
        {"colleague": colleague.username, "question": "Is it on our architecture list?"},
        format="json",
    )
    return response.status_code, response.json().get("colleague")


# The page returns to the request with the reason as its message.
PATHS = {"page": (page_ask, 200), "API": (api_ask, 400)}


@pytest.mark.parametrize("path_name", PATHS)
@pytest.mark.parametrize("rule_name", RULES)
def test_every_path_refuses_a_colleague_in_the_same_words(
    client, api, submitted, it_reviewer, procurement, cio, cpo, rule_name, path_name
):
    step = submitted(title="Miro for the design team").steps.get(side="it")
    choose, words = RULES[rule_name]
    colleague = choose(step, it_reviewer)
    path, status = PATHS[path_name]

    assert path(client, api, it_reviewer, step, colleague) == (
        status,
        [words.format(colleague=colleague)],
    )
    assert not Consultation.objects.exists()
