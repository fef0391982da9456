"""One rule, every way in (issue 27, item 2): what a request may name is refused by the page
form, the API's create and update, and submit and resubmit (page and API), each time with the
same words on the same field. Each rule lives in a selector that the service asks
(`intake.services.naming_errors`); the form asks the same one.

Every row is a rule × a path. The thing named is allowed when the test begins; it becomes one a
request may not name (a vendor rejected or offboarded, a category retired) before the request
is written on the create and update paths, and after the draft was saved on the submit paths
(a draft saved with an approved vendor that is rejected later is refused at submit)."""

import html
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from intake.models import Category, PurchaseRequest, State
from tests.factories import CategoryFactory, PurchaseRequestFactory, VendorFactory
from tests.intake.test_pages import form_data
from vendors.models import Vendor, VendorStatus

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Rule:
    field: str
    make: Callable  # something a request may name, today
    forbid: Callable  # ... and then may not
    words: Callable  # what every path says, given the thing


def _vendor_becomes(status):
    def forbid(vendor):
        Vendor.objects.filter(pk=vendor.pk).update(status=status)  # as the review or offboarding

    return forbid


RULES = {
    "rejected vendor": Rule(
        field="vendor",
        make=lambda: VendorFactory(name="Acme Analytics"),
        forbid=_vendor_becomes(VendorStatus.REJECTED),
        words=lambda vendor: (
            "Acme Analytics is rejected: a request cannot name it. "
            "Choose another vendor or propose a new one."
        ),
    ),
    "offboarded vendor": Rule(
        field="vendor",
        make=lambda: VendorFactory(name="Gone Hosting"),
        forbid=_vendor_becomes(VendorStatus.OFFBOARDED),
        words=lambda vendor: (
            "Gone Hosting is offboarded: a request cannot name it. "
            "Choose another vendor or propose a new one."
        ),
    ),
    "retired category": Rule(
        field="category",
        make=lambda: CategoryFactory(name="Fax machines", slug="fax"),
        forbid=lambda category: Category.objects.filter(pk=category.pk).update(active=False),
        words=lambda category: "“Fax machines” is no longer a purchase category: choose another.",
    ),
}


def page_field_errors(response, field) -> list[str]:
    """The errors the page shows under a field (templates/includes/field.html)."""
    page = response.content.decode()
    return [html.unescape(e) for e in re.findall(rf'id="id_{field}_error">(.*?)</div>', page)]


def offered(page: str, field: str) -> dict[str, bool]:
    """The options of a select on the page: {value: selected}."""
    select = re.search(rf'<select name="{field}".*?</select>', page, re.S).group()
    return {
        value: "selected" in attrs
        for value, attrs in re.findall(r'<option value="([^"]*)"([^>]*)>', select)
    }


def _draft(requester, rule, thing, state=State.DRAFT):
    """A complete request naming `thing`, saved while it could be named."""
    return PurchaseRequestFactory(requester=requester, state=state, **{rule.field: thing})


def _another(rule):
    """Another thing of the rule's kind that stays allowed (the draft's before the update)."""
    if rule.field == "vendor":
        return VendorFactory()
    return CategoryFactory(name="Hardware", slug="hardware")


# The paths. Each writes `thing` (or submits a request naming it) as the requester would, checks
# that nothing was written, and returns (status, the errors shown on the rule's field).


def page_create(client, api, requester, rule, thing):
    rule.forbid(thing)
    client.force_login(requester)
    response = client.post(
        "/requests/new/", form_data(title="Named on the form", **{rule.field: thing.pk}, save="1")
    )
    assert not PurchaseRequest.objects.filter(title="Named on the form").exists()
    return response.status_code, page_field_errors(response, rule.field)


def page_create_and_submit(client, api, requester, rule, thing):
    rule.forbid(thing)
    client.force_login(requester)
    response = client.post(
        "/requests/new/",
        form_data(title="Named on the form", **{rule.field: thing.pk}, submit="1"),
    )
    assert not PurchaseRequest.objects.filter(title="Named on the form").exists()
    return response.status_code, page_field_errors(response, rule.field)


def page_update(client, api, requester, rule, thing):
    draft = _draft(requester, rule, _another(rule))
    rule.forbid(thing)
    client.force_login(requester)
    response = client.post(
        f"/requests/{draft.pk}/edit/",
        form_data(title="Renamed", **{rule.field: thing.pk}, save="1"),
    )
    draft.refresh_from_db()
    assert draft.title != "Renamed" and getattr(draft, f"{rule.field}_id") != thing.pk
    return response.status_code, page_field_errors(response, rule.field)


def _page_transition(action, state):
    def path(client, api, requester, rule, thing):
        draft = _draft(requester, rule, thing, state=state)
        rule.forbid(thing)
        client.force_login(requester)
        response = client.post(f"/requests/{draft.pk}/{action}/", follow=True)
        draft.refresh_from_db()
        assert draft.state == state and not draft.steps.exists()
        # A failed submit leads to the draft's form with what it lacks marked.
        assert response.redirect_chain[-1][0] == f"/requests/{draft.pk}/edit/?check=1"
        return response.status_code, page_field_errors(response, rule.field)

    return path


def api_create(client, api, requester, rule, thing):
    rule.forbid(thing)
    body = {"title": "Named through the API", rule.field: thing.pk}
    response = api.as_user(requester).post("/api/requests/", body, format="json")
    assert not PurchaseRequest.objects.filter(title="Named through the API").exists()
    return response.status_code, response.json().get(rule.field)


def api_update(client, api, requester, rule, thing):
    draft = _draft(requester, rule, _another(rule))
    rule.forbid(thing)
    response = api.as_user(requester).patch(
        f"/api/requests/{draft.pk}/", {rule.field: thing.pk}, format="json"
    )
    draft.refresh_from_db()
    assert getattr(draft, f"{rule.field}_id") != thing.pk
    return response.status_code, response.json().get(rule.field)


def _api_transition(action, state):
    def path(client, api, requester, rule, thing):
        draft = _draft(requester, rule, thing, state=state)
        rule.forbid(thing)
        response = api.as_user(requester).post(f"/api/requests/{draft.pk}/{action}/")
        draft.refresh_from_db()
        assert draft.state == state and not draft.steps.exists()
        return response.status_code, response.json().get(rule.field)

    return path


# (path, the status it answers with): the page shows the form again with the field's error.
PATHS = {
    "page create": (page_create, 200),
    "page create and submit": (page_create_and_submit, 200),
    "page update": (page_update, 200),
    "page submit": (_page_transition("submit", State.DRAFT), 200),
    "page resubmit": (_page_transition("resubmit", State.CHANGES_REQUESTED), 200),
    "API create": (api_create, 400),
    "API update (PATCH)": (api_update, 400),
    "API submit": (_api_transition("submit", State.DRAFT), 400),
    "API resubmit": (_api_transition("resubmit", State.CHANGES_REQUESTED), 400),
}


@pytest.mark.parametrize("path_name", PATHS)
@pytest.mark.parametrize("rule_name", RULES)
def test_every_path_refuses_what_a_request_may_not_name_in_the_same_words(
    client, api, requester, rule_name, path_name
):
    rule = RULES[rule_name]
    path, status = PATHS[path_name]
    thing = rule.make()

    answered, errors = path(client, api, requester, rule, thing)

    assert answered == status
    assert errors == [rule.words(thing)]


@pytest.mark.parametrize("rule_name", RULES)
def test_the_form_lists_only_what_may_be_named_but_keeps_the_draft_s_choice_in_view(
    client, requester, rule_name
):
    """The list offers only what may be named (the selector); a draft naming one that may not
    any more shows it chosen, with the rule's words, so it does not vanish unnoticed."""
    rule = RULES[rule_name]
    thing = rule.make()
    draft = _draft(requester, rule, thing)
    rule.forbid(thing)
    client.force_login(requester)

    still_allowed = _another(rule)
    new_form = offered(client.get("/requests/new/").content.decode(), rule.field)
    assert str(still_allowed.pk) in new_form and str(thing.pk) not in new_form

    checked = client.get(f"/requests/{draft.pk}/edit/?check=1")
    assert offered(checked.content.decode(), rule.field)[str(thing.pk)] is True
    assert page_field_errors(checked, rule.field) == [rule.words(thing)]


def test_a_request_may_keep_naming_what_may_be_named(client, api, requester):
    """The rules refuse only what they name: an approved vendor, one under review or only
    proposed, and an active category are taken on every path."""
    for status in (VendorStatus.APPROVED, VendorStatus.UNDER_REVIEW, VendorStatus.PROSPECTIVE):
        vendor = VendorFactory(status=status)
        response = api.as_user(requester).post(
            "/api/requests/", {"title": f"With a vendor {status}", "vendor": vendor.pk}
        )
        assert response.status_code == 201, response.json()
        draft = _draft(requester, RULES["rejected vendor"], vendor)
        assert api.post(f"/api/requests/{draft.pk}/submit/").status_code == 200
