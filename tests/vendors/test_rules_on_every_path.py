"""One rule, every way in (issue 27, item 2): who may own a contract and which requests it may
name are refused by the contract form and the API in the same words on the same field (the rules
in `vendors.selectors`, asked by `vendors.services.add_contract`, which re-checks the owner on
save). A contract is only ever created (there is no update path). Each row is a rule × a path."""

import html
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.exceptions import ValidationError

from accounts import roles
from tests.factories import PurchaseRequestFactory, UserFactory, VendorFactory
from tests.vendors.api_support import contract_payload
from tests.vendors.pages_support import contract_data, field_error
from vendors import services
from vendors.models import Vendor

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Rule:
    field: str
    choice: Callable  # (vendor) -> what the form posts and what the API sends for the field
    words: str  # what every path says, with {choice}


def _requester(vendor):
    return UserFactory(username="rita", first_name="Rita", last_name="Reyes")


def _left_reviewer(vendor):
    return UserFactory(
        username="ivo", first_name="Ivo", last_name="Ilic", roles=[roles.IT_REVIEWERS]
    )


def _deactivate(person):
    person.is_active = False
    person.save(update_fields=["is_active"])
    return person


RULES = {
    "owner who is no reviewer, leader, finance or admin": Rule(
        field="owner",
        choice=_requester,
        words="Rita Reyes cannot own a contract: choose someone from IT, procurement or "
        "finance, a leader or an admin.",
    ),
    "owner who has left": Rule(
        field="owner",
        choice=lambda vendor: _deactivate(_left_reviewer(vendor)),
        words="Ivo Ilic no longer uses Tandem: choose another owner.",
    ),
    "request of another vendor": Rule(
        field="requests",
        choice=lambda vendor: PurchaseRequestFactory(vendor=VendorFactory(), state="approved"),
        words="Request {id} is not one of this vendor's requests you can see.",
    ),
    "someone else's draft": Rule(
        field="requests",
        choice=lambda vendor: PurchaseRequestFactory(vendor=vendor, state="draft"),
        words="Request {id} is not one of this vendor's requests you can see.",
    ),
}


def page_create(client, api, manager, vendor, rule, chosen):
    client.force_login(manager)
    data = contract_data(manager)
    data[rule.field] = [chosen.pk] if rule.field == "requests" else chosen.pk
    response = client.post(f"/vendors/{vendor.pk}/contracts/", data)
    shown = html.unescape(field_error(response.content.decode(), rule.field))
    return response.status_code, [shown] if shown else []


def api_create(client, api, manager, vendor, rule, chosen):
    value = [chosen.pk] if rule.field == "requests" else chosen.username
    response = api.as_user(manager).post(
        f"/api/vendors/{vendor.pk}/contracts/",
        contract_payload(**{rule.field: value}),
        format="json",
    )
    return response.status_code, response.json().get(rule.field)


PATHS = {"page create": (page_create, 200), "API create": (api_create, 400)}


@pytest.mark.parametrize("path_name", PATHS)
@pytest.mark.parametrize("rule_name", RULES)
def test_every_path_refuses_a_contract_the_rules_refuse_in_the_same_words(
    client, api, procurement, rule_name, path_name
):
    rule = RULES[rule_name]
    path, status = PATHS[path_name]
    vendor = VendorFactory(name="Acme Analytics")
    chosen = rule.choice(vendor)

    answered, errors = path(client, api, procurement, vendor, rule, chosen)

    assert answered == status
    assert errors == [rule.words.format(id=chosen.pk)]
    assert not vendor.contracts.exists()


@pytest.mark.parametrize("path_name", PATHS)
@pytest.mark.parametrize("owner_role", [roles.FINANCE, roles.CPO, "admin"])
def test_every_path_takes_an_owner_who_may_own_a_contract(
    client, api, procurement, path_name, owner_role
):
    vendor = VendorFactory()
    owner = (
        UserFactory(username="otto", is_staff=True)
        if owner_role == "admin"
        else UserFactory(username="otto", roles=[owner_role])
    )
    path, _ = PATHS[path_name]
    answered, _ = path(client, api, procurement, vendor, RULES["owner who has left"], owner)
    assert answered in (201, 302)
    assert vendor.contracts.get().owner == owner


def test_the_service_refuses_the_owner_whoever_calls_it(procurement, requester):
    """`add_contract` re-checks on save: an import or a script is held by the same rule."""
    vendor = VendorFactory()
    fields = {
        "title": "Licences",
        "starts_on": "2026-01-01",
        "ends_on": "2026-12-31",
        "annual_value": "100.00",
        "owner": requester,
    }
    with pytest.raises(ValidationError) as refused:
        services.add_contract(vendor, by=procurement, fields=fields)
    assert refused.value.message_dict == {
        "owner": [f"{requester} cannot own a contract: choose someone from IT, procurement or "
                  "finance, a leader or an admin."]
    }  # fmt: skip
    assert not vendor.contracts.exists()


def test_the_contract_form_lists_only_who_may_own_a_contract(client, procurement, requester):
    vendor = VendorFactory()
    client.force_login(procurement)
    page = client.get(f"/vendors/{vendor.pk}/").content.decode()
    owners = page[page.index('name="owner"') : page.index("</select>", page.index('name="owner"'))]
    assert f'value="{procurement.pk}"' in owners
    assert f'value="{requester.pk}"' not in owners


# A vendor's country is written as an ISO code by the service, whichever path sent it.

COUNTRY_PATHS = {
    "page create": lambda client, api, manager, vendor: client.post(
        "/vendors/new/", {"name": "Northwind", "country": " de ", "data_access_level": "none"}
    ),
    "page update": lambda client, api, manager, vendor: client.post(
        f"/vendors/{vendor.pk}/edit/",
        {"name": "Northwind", "country": "de", "data_access_level": "none"},
    ),
    "API create": lambda client, api, manager, vendor: api.as_user(manager).post(
        "/api/vendors/", {"name": "Northwind", "country": "de"}, format="json"
    ),
    "API update (PATCH)": lambda client, api, manager, vendor: api.as_user(manager).patch(
        f"/api/vendors/{vendor.pk}/", {"name": "Northwind", "country": "de"}, format="json"
    ),
}


@pytest.mark.parametrize("path_name", COUNTRY_PATHS)
def test_every_path_writes_the_country_as_an_iso_code(client, api, procurement, path_name):
    vendor = VendorFactory(name="Old name", country="FR")
    client.force_login(procurement)
    response = COUNTRY_PATHS[path_name](client, api, procurement, vendor)
    assert response.status_code in (200, 201, 302), response.content[:500]
    assert Vendor.objects.get(name="Northwind").country == "DE"
