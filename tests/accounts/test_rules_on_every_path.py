"""One rule, every way in (issue 27, item 2): whom one may delegate to is refused by the
out-of-office page and the API in the same words on the same field (`Delegation.clean`, which
`services.create_delegation` runs for both; the page lists from `accounts.selectors`). A
delegation is only ever created (ending it is its own action). Each row is a rule × a path."""

import html
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Delegation
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

RULES = {
    "to oneself": (lambda delegator: delegator, "Delegate to somebody else."),
    "to someone who has left": (
        lambda delegator: UserFactory(username="gone", is_active=False),
        "This person can no longer sign in.",
    ),
}


def page_create(client, api, delegator, delegate):
    now = timezone.localtime()
    client.force_login(delegator)
    response = client.post(
        "/accounts/out-of-office/",
        {
            "delegate": delegate.pk,
            "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (now + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    page = response.content.decode()
    return response.status_code, [
        html.unescape(e) for e in re.findall(r'id="id_delegate_error">(.*?)</div>', page)
    ]


def api_create(client, api, delegator, delegate):
    response = api.as_user(delegator).post(
        "/api/delegations/",
        {"delegate": delegate.pk, "ends_at": (timezone.now() + timedelta(days=5)).isoformat()},
        format="json",
    )
    return response.status_code, response.json().get("delegate")


PATHS = {"page create": (page_create, 200), "API create": (api_create, 400)}


@pytest.mark.parametrize("path_name", PATHS)
@pytest.mark.parametrize("rule_name", RULES)
def test_every_path_refuses_a_delegate_in_the_same_words(
    client, api, it_reviewer, rule_name, path_name
):
    choose, words = RULES[rule_name]
    path, status = PATHS[path_name]
    assert path(client, api, it_reviewer, choose(it_reviewer)) == (status, [words])
    assert not Delegation.objects.exists()


def test_the_page_lists_only_those_one_may_delegate_to(client, it_reviewer):
    stand_in = UserFactory(username="stand-in")
    gone = UserFactory(username="gone", is_active=False)
    client.force_login(it_reviewer)
    page = client.get("/accounts/out-of-office/").content.decode()
    listed = re.search(r'<select name="delegate".*?</select>', page, re.S).group()
    assert f'value="{stand_in.pk}"' in listed
    assert f'value="{gone.pk}"' not in listed and f'value="{it_reviewer.pk}"' not in listed
