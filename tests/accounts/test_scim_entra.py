"""Provisioning as Entra ID's provisioning service drives it, over HTTP against the running
server: it looks each person and group up by filter before creating it, sends PATCH operations
with its capitalised ops and string booleans, pages through what exists, moves people between
groups and deactivates a leaver. Roles follow the claim mappings; the leaver can do nothing
by any path."""

import pytest
import requests
from django.contrib.auth.models import Group
from django.test import Client

from accounts import roles, tokens
from accounts.models import ClaimMapping, User
from approvals import policies, workflow
from approvals.models import StepState
from tests.factories import PurchaseRequestFactory, UserFactory

PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PEOPLE, TEAMS = 200, 10


class Entra:
    """The requests Entra ID's provisioning sends (learn.microsoft.com, "Tutorial: Develop and
    plan provisioning for a SCIM endpoint")."""

    def __init__(self, base, token):
        self.base = f"{base}/scim/v2"
        self.http = requests.Session()
        self.http.headers.update(
            {"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"}
        )

    def call(self, method, path, body=None, expect=200):
        response = self.http.request(method, f"{self.base}/{path}", json=body, timeout=30)
        assert response.status_code == expect, response.text
        assert response.headers["Content-Type"] == "application/scim+json" or expect == 204
        return response.json() if expect != 204 else None

    def provision_user(self, n):
        upn = f"person{n:03d}@corp.example"
        found = self.call("GET", f'Users?filter=userName eq "{upn}"')
        assert found["totalResults"] == 0 and found["Resources"] == []
        body = {
            "schemas": [USER, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            "externalId": f"oid-{n:03d}",
            "userName": upn,
            "active": True,
            "displayName": f"Person {n}",
            "emails": [{"primary": True, "type": "work", "value": upn}],
            "meta": {"resourceType": "User"},
            "name": {"formatted": f"Person {n}", "familyName": f"Number{n}", "givenName": "Pat"},
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "IT"},
        }
        return self.call("POST", "Users", body, expect=201)["id"]

    def provision_group(self, name, members):
        found = self.call(
            "GET", f'Groups?excludedAttributes=members&filter=displayName eq "{name}"'
        )
        assert found["totalResults"] == 0
        body = {"schemas": [GROUP], "externalId": f"gid-{name}", "displayName": name}
        if members[:5]:
            body["members"] = [{"value": pk} for pk in members[:5]]
        group = self.call("POST", "Groups", body, expect=201)
        if members[5:]:
            operation = {
                "op": "Add",
                "path": "members",
                "value": [{"value": pk} for pk in members[5:]],
            }
            self.call(
                "PATCH", f"Groups/{group['id']}", {"schemas": [PATCH], "Operations": [operation]}
            )
        return group["id"]

    def patch(self, kind, pk, *operations):
        return self.call(
            "PATCH", f"{kind}/{pk}", {"schemas": [PATCH], "Operations": list(operations)}
        )


@pytest.fixture
def entra(live_server, db):
    provider = UserFactory(username="entra-provisioning", is_service_account=True)
    _, token = tokens.create_token(provider, name="Entra ID", scopes=["scim"])
    return Entra(live_server.url, token)


def role_names(pk):
    return set(User.objects.get(pk=pk).groups.values_list("name", flat=True))


@pytest.mark.django_db(transaction=True)
def test_entra_id_provisions_moves_and_deactivates_people(entra, live_server):
    ClaimMapping.objects.create(value="team-0", group=Group.objects.get(name=roles.IT_REVIEWERS))
    ClaimMapping.objects.create(value="team-1", group=Group.objects.get(name=roles.PROCUREMENT))

    ids = [entra.provision_user(n) for n in range(PEOPLE)]
    teams = [entra.provision_group(f"team-{t}", ids[t::TEAMS]) for t in range(TEAMS)]

    # Entra's PATCH of a person: capitalised ops, a string boolean, a filtered e-mail path.
    first = ids[0]
    changed = entra.patch(
        "Users",
        first,
        {"op": "Replace", "path": "displayName", "value": "Pat First"},
        {
            "op": "Replace",
            "path": 'emails[type eq "work"].value',
            "value": "pat.first@corp.example",
        },
        {"op": "Replace", "path": "active", "value": "True"},
    )
    assert changed["emails"][0]["value"] == "pat.first@corp.example" and changed["active"] is True

    # Paging through everyone, as the provider's full sync does.
    seen, start = [], 1
    while True:
        page = entra.call("GET", f"Users?startIndex={start}&count=30")
        assert page["totalResults"] == PEOPLE
        seen += [resource["id"] for resource in page["Resources"]]
        if not page["Resources"]:
            break
        start += page["itemsPerPage"]
    assert sorted(seen, key=int) == sorted(ids, key=int)
    groups_page = entra.call("GET", "Groups?startIndex=4&count=3&excludedAttributes=members")
    assert groups_page["totalResults"] == TEAMS
    assert [g["displayName"] for g in groups_page["Resources"]] == ["team-3", "team-4", "team-5"]
    assert "members" not in groups_page["Resources"][0]

    it_people = ids[0::TEAMS]
    buyers = ids[1::TEAMS]
    assert all(roles.IT_REVIEWERS in role_names(pk) for pk in it_people)
    assert all(roles.PROCUREMENT in role_names(pk) for pk in buyers)
    assert roles.IT_REVIEWERS not in role_names(ids[2])

    # Two change teams: one moves from IT (team-0) to procurement (team-1), one leaves team-0.
    mover, dropped = it_people[1], it_people[2]
    entra.patch("Groups", teams[0], {"op": "Remove", "path": f'members[value eq "{mover}"]'})
    entra.patch("Groups", teams[1], {"op": "Add", "path": "members", "value": [{"value": mover}]})
    entra.patch(
        "Groups", teams[0], {"op": "Remove", "path": "members", "value": [{"value": dropped}]}
    )
    assert role_names(mover) == {roles.PROCUREMENT}
    assert roles.IT_REVIEWERS not in role_names(dropped)
    assert roles.IT_REVIEWERS in role_names(it_people[3])

    # A buyer with a session, an API token and a step waiting on procurement leaves.
    leaver = User.objects.get(pk=buyers[0])
    browser = Client()
    browser.force_login(leaver)
    cookie = {"sessionid": browser.cookies["sessionid"].value}
    _, token = tokens.create_token(leaver, name="Reports", scopes=["read", "decide"])
    api = {"Authorization": f"Bearer {token}"}
    requester = UserFactory(username="rita")
    purchase = workflow.submit_request(PurchaseRequestFactory(requester=requester), by=requester)
    step = purchase.steps.get(side="procurement", round=1)
    assert policies.can_decide(leaver, step).allowed
    assert (
        requests.get(
            f"{live_server.url}/requests/", cookies=cookie, allow_redirects=False
        ).status_code
        == 200
    )
    assert requests.get(f"{live_server.url}/api/requests/", headers=api).status_code == 200

    gone = entra.patch("Users", leaver.pk, {"op": "Replace", "path": "active", "value": "False"})
    assert gone["active"] is False

    leaver.refresh_from_db()
    assert not leaver.is_active
    page = requests.get(f"{live_server.url}/requests/", cookies=cookie, allow_redirects=False)
    assert page.status_code == 302 and page.headers["Location"].startswith("/accounts/login/")
    assert requests.get(f"{live_server.url}/api/requests/", headers=api).status_code == 401
    decided = requests.post(
        f"{live_server.url}/api/steps/{step.pk}/approve/", headers=api, json={"comment": "ok"}
    )
    assert decided.status_code == 401
    verdict = policies.can_decide(leaver, step)
    assert not verdict.allowed and "switched off" in verdict.reason
    step.refresh_from_db()
    assert step.state == StepState.OPEN and step.decided_by_id is None
    # The provider sees the leaver as inactive; the roles of the others did not move.
    assert entra.call("GET", f"Users/{leaver.pk}")["active"] is False
    assert roles.PROCUREMENT in role_names(buyers[1])
