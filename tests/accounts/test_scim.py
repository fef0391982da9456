"""SCIM 2.0 for the identity provider (accounts.scim): who may call it, what it does to people
and their roles, and how it refuses what it cannot take (SCIM's error format, never a 500)."""

import json

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from accounts import roles, tokens
from accounts.models import ApiToken, ClaimMapping, User
from tests.factories import UserFactory

ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


@pytest.fixture
def provider(db):
    return UserFactory(username="entra", is_service_account=True)


@pytest.fixture
def scim_token(provider):
    return tokens.create_token(provider, name="Entra ID provisioning", scopes=["scim"])[1]


@pytest.fixture
def scim(client, scim_token):
    class Scim:
        def call(self, method, path, body=None, raw=None, token=scim_token):
            data = raw if raw is not None else (json.dumps(body) if body is not None else "")
            return getattr(client, method)(
                f"/scim/v2/{path}",
                data=data,
                content_type="application/scim+json",
                HTTP_AUTHORIZATION=f"Bearer {token}",
            )

        def user(self, user_name, **extra):
            body = {
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": user_name,
                "name": {"givenName": "Ines", "familyName": "Ortega"},
                "emails": [{"value": user_name, "type": "work", "primary": True}],
                "active": True,
                **extra,
            }
            response = self.call("post", "Users", body)
            assert response.status_code == 201, response.content
            return response.json()

    return Scim()


def assert_scim_error(response, status, scim_type=None):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/scim+json"
    body = response.json()
    assert body["schemas"] == [ERROR] and body["status"] == str(status) and body["detail"]
    if scim_type:
        assert body["scimType"] == scim_type


def test_a_person_made_by_scim_has_no_password_and_their_attributes(scim):
    made = scim.user("ines@corp.example", externalId="a1b2")
    ines = User.objects.get(pk=made["id"])
    assert (ines.username, ines.first_name, ines.last_name) == (
        "ines@corp.example",
        "Ines",
        "Ortega",
    )
    assert ines.email == "ines@corp.example" and ines.external_id == "a1b2"
    assert ines.provisioned_at is not None and not ines.has_usable_password()
    assert made["active"] is True and made["meta"]["location"].endswith(f"/Users/{ines.pk}")


def test_only_a_token_with_the_scim_scope_may_call_scim(scim, db, requester):
    assert_scim_error(scim.call("get", "Users", token="nothing"), 401)
    _, personal = tokens.create_token(requester, name="Mine", scopes=["read", "write", "decide"])
    assert_scim_error(scim.call("get", "Users", token=personal), 403)
    assert scim.call("get", "Users").status_code == 200


def test_a_session_is_not_enough(client, requester):
    client.force_login(requester)
    assert_scim_error(client.get("/scim/v2/Users"), 401)


def test_a_scim_token_can_do_nothing_on_the_api(scim_token):
    api = APIClient()
    response = api.get("/api/requests/", HTTP_AUTHORIZATION=f"Bearer {scim_token}")
    assert response.status_code == 403
    assert "scope" in response.json()["detail"]


def test_a_scim_token_is_for_a_service_account_and_alone(provider, requester):
    with pytest.raises(ValidationError, match="service account"):
        tokens.create_token(requester, name="Sneaky", scopes=["scim"])
    with pytest.raises(ValidationError, match="alone"):
        tokens.create_token(provider, name="Both", scopes=["scim", "read"])
    assert not ApiToken.objects.filter(name__in=["Sneaky", "Both"]).exists()


def test_a_person_cannot_give_their_own_token_the_scim_scope(client, requester):
    client.force_login(requester)
    response = client.post(
        "/api/tokens/", {"name": "x", "scopes": ["scim"]}, content_type="application/json"
    )
    assert response.status_code == 400 and "scopes" in response.json()
    response = client.post(
        "/api/tokens/", {"name": "x", "scopes": ["read"]}, content_type="application/json"
    )
    assert response.status_code == 201
    assert list(ApiToken.objects.filter(user=requester).values_list("scopes", flat=True)) == [
        ["read"]
    ]


def test_filter_and_pagination(scim):
    for n in range(5):
        scim.user(f"p{n}@corp.example")
    assert (
        scim.call("get", 'Users?filter=userName eq "nobody@corp.example"').json()["totalResults"]
        == 0
    )
    found = scim.call("get", 'Users?filter=userName eq "P3@corp.example"').json()
    assert [r["userName"] for r in found["Resources"]] == ["p3@corp.example"]
    page = scim.call("get", "Users?startIndex=2&count=2").json()
    assert page["totalResults"] == 5 and page["startIndex"] == 2 and page["itemsPerPage"] == 2
    assert [r["userName"] for r in page["Resources"]] == ["p1@corp.example", "p2@corp.example"]


def test_the_provider_never_sees_service_accounts(scim, provider):
    listed = scim.call("get", "Users").json()
    assert str(provider.pk) not in [r["id"] for r in listed["Resources"]]
    assert_scim_error(scim.call("get", f"Users/{provider.pk}"), 404)


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "Replace", "path": "active", "value": "False"},
        {"op": "replace", "path": "active", "value": False},
        {"op": "replace", "value": {"active": False}},
    ],
    ids=["entra-string", "boolean", "no-path"],
)
def test_active_false_in_any_form_is_leaving(scim, operation):
    made = scim.user("leo@corp.example")
    leo = User.objects.get(pk=made["id"])
    _, token = tokens.create_token(leo, name="Reports", scopes=["read"])
    response = scim.call(
        "patch", f"Users/{leo.pk}", {"schemas": [PATCH], "Operations": [operation]}
    )
    assert response.status_code == 200 and response.json()["active"] is False
    assert not User.objects.get(pk=leo.pk).is_active
    assert (
        APIClient().get("/api/requests/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
    )


def test_patch_replaces_names_and_address(scim):
    made = scim.user("mia@corp.example")
    operations = [
        {"op": "replace", "path": "displayName", "value": "Mia Rossi"},
        {"op": "replace", "path": "name.familyName", "value": "Rossi"},
        {"op": "replace", "path": 'emails[type eq "work"].value', "value": "mia.r@corp.example"},
    ]
    body = scim.call("patch", f"Users/{made['id']}", {"Operations": operations}).json()
    assert body["name"]["familyName"] == "Rossi"
    assert body["emails"][0]["value"] == "mia.r@corp.example"


@pytest.mark.parametrize(
    ("method", "path", "raw", "status", "scim_type"),
    [
        ("post", "Users", "{not json", 400, "invalidSyntax"),
        ("post", "Users", "[1, 2]", 400, "invalidSyntax"),
        ("post", "Users", json.dumps({"userName": 42}), 400, "invalidValue"),
        ("post", "Users", json.dumps({"userName": "x", "shoeSize": 9}), 400, "invalidPath"),
        ("post", "Users", json.dumps({"userName": "x", "active": "maybe"}), 400, "invalidValue"),
        ("post", "Users", json.dumps({"userName": "x", "emails": "a@b"}), 400, "invalidValue"),
        ("post", "Users", json.dumps({"userName": "x", "name": "X"}), 400, "invalidValue"),
        ("post", "Users", json.dumps({"userName": "a b/c"}), 400, "invalidValue"),
        ("post", "Users", json.dumps({"name": {"givenName": "x"}}), 400, "invalidValue"),
        ("post", "Groups", json.dumps({"displayName": ""}), 400, "invalidValue"),
        (
            "post",
            "Groups",
            json.dumps({"displayName": "g", "members": [{"value": "999"}]}),
            400,
            "invalidValue",
        ),
        ("post", "Groups", json.dumps({"displayName": "g", "members": "all"}), 400, "invalidValue"),
        ("get", 'Users?filter=userName co "x"', "", 400, "invalidFilter"),
        ("get", 'Users?filter=title eq "x"', "", 400, "invalidFilter"),
        ("get", "Users?startIndex=one", "", 400, "invalidValue"),
        ("get", "Users/abc", "", 404, None),
        ("get", "Groups/12345", "", 404, None),
        ("delete", "Users", "", 405, None),
    ],
)
def test_what_cannot_be_taken_is_refused_in_scims_words(scim, method, path, raw, status, scim_type):
    assert_scim_error(scim.call(method, path, raw=raw), status, scim_type)


@pytest.mark.parametrize(
    "operations",
    [
        "replace everything",
        [],
        ["replace"],
        [{"op": "merge", "path": "active", "value": True}],
        [{"op": "replace", "path": "shoeSize", "value": 9}],
        [{"op": "replace", "path": 7, "value": 9}],
        [{"op": "replace", "path": "active", "value": [True]}],
        [{"op": "replace", "value": "not an object"}],
        [{"op": "remove"}],
        [{"op": "remove", "path": "userName"}],
    ],
)
def test_bad_patch_operations_are_refused_and_change_nothing(scim, operations):
    made = scim.user("nia@corp.example")
    response = scim.call("patch", f"Users/{made['id']}", {"Operations": operations})
    assert_scim_error(response, 400)
    assert User.objects.get(pk=made["id"]).is_active


def test_a_taken_user_name_is_a_conflict(scim):
    scim.user("ola@corp.example")
    response = scim.call("post", "Users", {"userName": "OLA@corp.example"})
    assert_scim_error(response, 409, "uniqueness")


def test_group_members_get_the_roles_the_claim_mappings_give(scim):
    it = Group.objects.get(name=roles.IT_REVIEWERS)
    ClaimMapping.objects.create(claim="groups", value="it-security", group=it)
    ines, leo = scim.user("ines@corp.example"), scim.user("leo@corp.example")
    group = scim.call(
        "post", "Groups", {"displayName": "it-security", "members": [{"value": ines["id"]}]}
    ).json()
    assert roles.IT_REVIEWERS in names_of_groups(ines["id"])

    add = {"op": "add", "path": "members", "value": [{"value": leo["id"]}]}
    remove = {"op": "remove", "path": f'members[value eq "{ines["id"]}"]'}
    response = scim.call("patch", f"Groups/{group['id']}", {"Operations": [add, remove]})
    assert response.status_code == 200
    assert [m["value"] for m in response.json()["members"]] == [leo["id"]]
    assert roles.IT_REVIEWERS not in names_of_groups(ines["id"])
    assert roles.IT_REVIEWERS in names_of_groups(leo["id"])

    assert scim.call("delete", f"Groups/{group['id']}").status_code == 204
    assert roles.IT_REVIEWERS not in names_of_groups(leo["id"])


def test_roles_no_mapping_names_are_left_alone(scim):
    made = scim.user("una@corp.example")
    una = User.objects.get(pk=made["id"])
    una.groups.add(Group.objects.get(name=roles.FINANCE))
    scim.call("post", "Groups", {"displayName": "everyone", "members": [{"value": made["id"]}]})
    assert roles.FINANCE in names_of_groups(made["id"])


def names_of_groups(pk):
    return set(User.objects.get(pk=pk).groups.values_list("name", flat=True))


def test_a_person_made_by_scim_cannot_set_a_tandem_password(scim, client):
    made = scim.user("vic@corp.example")
    vic = User.objects.get(pk=made["id"])
    client.force_login(vic)
    new = {"password1": "a-long-new-pass-4821", "password2": "a-long-new-pass-4821"}
    assert client.post("/auth/password/set/", new).status_code == 403
    assert not User.objects.get(pk=vic.pk).has_usable_password()


def test_the_admin_shows_what_the_provider_pushed(scim, client, admin_user):
    made = scim.user("wes@corp.example", externalId="oid-wes")
    group = scim.call(
        "post", "Groups", {"displayName": "all-staff", "members": [{"value": made["id"]}]}
    )
    client.force_login(admin_user)
    page = client.get(f"/admin/accounts/user/{made['id']}/change/")
    assert page.status_code == 200 and "oid-wes" in page.content.decode()
    assert "May set local password" in page.content.decode()
    page = client.get(f"/admin/accounts/providergroup/{group.json()['id']}/change/")
    assert page.status_code == 200 and "all-staff" in page.content.decode()
