"""Who sees a department's budget figures (issue 27, item 3): one rule, budgets.policies
(`budget_sight`, `can_see_budget`), and every path that shows figures gives the same answer.

A table: every path that shows budget figures (the request form's budget panel and approvers
preview, the API's list and detail, the Budgets page, the dashboard, a blocking budget's
refusal on the page and in the API, a request's page, steps and events, the CSV exports)
against every role. A cell passes when the budget's figures are in the answer exactly when the
rule lets the role see them and the path is open to the role at all; a refused answer carries
no figure and no 5xx.

Marketing's budget: 73,910 EUR; 12,345 committed; a request of Mia's for 70,000 in review took
it over (61,565 available when she submitted, -8,435 now). Those three numbers are the
figures looked for."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import roles
from approvals import workflow
from budgets import fiscal
from budgets.models import Budget, OverrunAction
from intake.models import State
from tests.factories import DepartmentFactory, PurchaseRequestFactory, UserFactory
from tests.intake.test_pages import form_data
from tests.support import rolled_back_atomic

FIGURES = re.compile(r"73,?910|61,?565|8,?435")

ROLES = (
    "anonymous",
    "requester_of_department",  # Mia, in Marketing
    "requester_elsewhere",  # Eli, in Sales, no role
    "finance",
    "cio",
    "cpo",
    "it_reviewer",
    "budget_owner",  # Owen, in Sales, no role, owns Marketing's budget
    "admin",
)
# The rule: who sees Marketing's budget figures.
SEES_MARKETING = {
    "requester_of_department",
    "finance",
    "cio",
    "cpo",
    "it_reviewer",
    "budget_owner",
    "admin",
}
EVERYONE = set(ROLES[1:])
READS_EVERY_SUBMITTED_REQUEST = {"finance", "cio", "cpo", "it_reviewer", "admin"}


@dataclass
class World:
    users: dict
    sessions: dict
    marketing: object
    budget: Budget
    overrun: object  # Mia's request in review that took the budget over


@dataclass(frozen=True)
class Path:
    send: Callable  # (client, api, world, user) -> response
    open_to: set  # the roles the path answers at all (others: refused by its own rule)
    api: bool = False
    closed_status: int = 403  # what the roles outside `open_to` get


def over_budget_form(world, **overrides):
    return form_data(
        department=world.marketing.pk,
        needed_by=timezone.localdate().isoformat(),
        billing="one_off",
        term_months="",
        **{"items-0-quantity": "1", "items-0-unit_price": "70000.00"},
        **overrides,
    )


def over_budget_draft(world, user):
    return PurchaseRequestFactory(
        requester=user,
        department=world.marketing,
        needed_by=timezone.localdate(),
        total_cost=Decimal("70000.00"),
        line_items=[("Seat", "1", "70000.00")],
    )


def blocking(world):
    Budget.objects.filter(pk=world.budget.pk).update(overrun_action=OverrunAction.BLOCK)


def submit_on_the_page(client, api, world, user):
    blocking(world)
    data = over_budget_form(world, submit="1")
    return client.post("/requests/new/", data, follow=user is not None)


def submit_in_the_api(client, api, world, user):
    blocking(world)
    draft = over_budget_draft(world, user) if user else None
    return api.post(f"/api/requests/{draft.pk if draft else 1}/submit/")


PATHS = {
    "budget panel (request form)": Path(
        lambda c, a, w, u: c.post("/budgets/intake-panel/", over_budget_form(w)), EVERYONE
    ),
    "approvers preview (request form)": Path(
        lambda c, a, w, u: c.post("/approvals/approvers-preview/", over_budget_form(w)), EVERYONE
    ),
    "list budgets (API)": Path(
        lambda c, a, w, u: a.get("/api/budgets/", {"department": w.marketing.pk}),
        EVERYONE,
        api=True,
    ),
    "one budget (API)": Path(
        lambda c, a, w, u: a.get(f"/api/budgets/{w.budget.pk}/"),
        SEES_MARKETING,
        api=True,
        closed_status=404,
    ),
    "budgets page": Path(
        lambda c, a, w, u: c.get("/budgets/"), {"finance", "cio", "cpo", "budget_owner", "admin"}
    ),
    "insights dashboard": Path(
        lambda c, a, w, u: c.get("/insights/"), READS_EVERY_SUBMITTED_REQUEST
    ),
    "submit refused by a blocking budget (page)": Path(submit_on_the_page, EVERYONE),
    "submit refused by a blocking budget (API)": Path(submit_in_the_api, EVERYONE, api=True),
    "request page (budget owner's step)": Path(
        lambda c, a, w, u: c.get(w.overrun.get_absolute_url()),
        READS_EVERY_SUBMITTED_REQUEST | {"requester_of_department", "budget_owner"},
        closed_status=404,
    ),
    "request steps (API)": Path(
        lambda c, a, w, u: a.get(f"/api/requests/{w.overrun.pk}/steps/"),
        READS_EVERY_SUBMITTED_REQUEST | {"requester_of_department", "budget_owner"},
        api=True,
        closed_status=404,
    ),
    "request events (API)": Path(
        lambda c, a, w, u: a.get(f"/api/requests/{w.overrun.pk}/events/"),
        READS_EVERY_SUBMITTED_REQUEST | {"requester_of_department", "budget_owner"},
        api=True,
        closed_status=404,
    ),
    "export the audit trail": Path(
        lambda c, a, w, u: c.get("/insights/export/audit.csv"), {"cio", "cpo", "admin"}
    ),
    # Requests, not budgets: no budget figure for anyone (a total is not a budget's figure).
    "export requests": Path(lambda c, a, w, u: c.get("/insights/export/requests.csv"), set()),
}
NO_FIGURES_BUT_OPEN = {"export requests"}

CASES = [pytest.param(name, role, id=f"{name} | {role}") for name in PATHS for role in ROLES]


def _build_world() -> World:
    marketing = DepartmentFactory(name="Marketing", cost_centre="MKT")
    sales = DepartmentFactory(name="Sales", cost_centre="SLS")
    users = {
        "requester_of_department": UserFactory(username="mia", department=marketing),
        "requester_elsewhere": UserFactory(username="eli", department=sales),
        "finance": UserFactory(username="fiona", department=sales, roles=[roles.FINANCE]),
        "cio": UserFactory(username="cora", department=sales, roles=[roles.CIO]),
        "cpo": UserFactory(username="cleo", department=sales, roles=[roles.CPO]),
        "it_reviewer": UserFactory(username="ivan", department=sales, roles=[roles.IT_REVIEWERS]),
        "budget_owner": UserFactory(
            username="owen", first_name="Owen", last_name="Owner", department=sales
        ),
        "admin": UserFactory(username="ada", department=sales, is_staff=True, is_superuser=True),
    }
    today = timezone.localdate()
    budget = Budget.objects.create(
        department=marketing,
        fiscal_year=fiscal.fiscal_year_of(today),
        amount=Decimal("73910.00"),
        owner=users["budget_owner"],
    )
    PurchaseRequestFactory(
        department=marketing,
        state=State.APPROVED,
        needed_by=today,
        total_cost=Decimal("12345.00"),
        line_items=[("Licence", "1", "12345.00")],
    )
    mia = users["requester_of_department"]
    overrun = workflow.submit_request(
        PurchaseRequestFactory(
            requester=mia,
            department=marketing,
            needed_by=today,
            total_cost=Decimal("70000.00"),
            line_items=[("Seat", "1", "70000.00")],
        ),
        by=mia,
    )
    assert overrun.steps.filter(user=users["budget_owner"]).exists()  # the overrun's step
    sessions = {}
    for role, user in users.items():
        browser = Client()
        browser.force_login(user)
        sessions[role] = browser.cookies[settings.SESSION_COOKIE_NAME].value
    return World(users, sessions, marketing, budget, overrun)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), rolled_back_atomic():
        yield _build_world()
        transaction.set_rollback(True)


@pytest.fixture(scope="module")
def clients():
    return Client(), APIClient()


@pytest.mark.django_db
@pytest.mark.parametrize(("path_name", "role"), CASES)
def test_every_path_shows_a_budget_to_whom_the_rule_lets_see_it(path_name, role, world, clients):
    path = PATHS[path_name]
    client, api = clients
    client.cookies.clear()
    api.cookies.clear()
    user = world.users.get(role)
    if user is not None:
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[role]
        api.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[role]
    response = path.send(client, api, world, user)
    status = response.status_code
    text = b"".join(response.streaming_content) if response.streaming else response.content
    text = text.decode(errors="replace")
    where = f"{path_name} as {role}: {status}"
    assert status < 500, where

    if user is None:
        if path.api:
            assert status == 401, where
        else:
            assert status == 302, where
            assert response["Location"].startswith("/accounts/login/"), where
        assert not FIGURES.search(text), where
        return

    if role not in path.open_to and path_name not in NO_FIGURES_BUT_OPEN:
        assert status == path.closed_status, where
    figures_shown = bool(FIGURES.search(text))
    expected = role in SEES_MARKETING and role in path.open_to
    assert figures_shown is expected, f"{where}: figures {'shown' if figures_shown else 'hidden'}"

    # What a refused reader is told instead, on the paths open to every signed-in person.
    if path_name == "budget panel (request form)" and not expected:
        assert "You see the budget of your own department" in text, where
    if path_name.startswith("submit refused"):
        assert "does not allow requests beyond it" in text, where
        assert "Over budget: Marketing" in text, where
    if path_name == "list budgets (API)":
        listed = [row["id"] for row in response.json()["results"]]
        assert listed == ([world.budget.pk] if expected else []), where
    if path_name == "approvers preview (request form)":
        assert ("Owen Owner" in text) is expected, where  # the overrun's step, or no hint of it
        assert ("data-budget-left-out" in text) is not expected, where


@pytest.mark.django_db
def test_a_requester_sees_the_department_of_their_own_submitted_request_while_editing_it(
    world, clients
):
    """Eli (Sales) charged a request to Marketing and it came back for changes: editing it,
    he sees Marketing's budget; anywhere else (a new form, the API, his draft charged to
    Marketing, someone else's request) he does not."""
    client, api = clients
    eli = world.users["requester_elsewhere"]
    sent_back = PurchaseRequestFactory(
        requester=eli,
        department=world.marketing,
        state=State.CHANGES_REQUESTED,
        submitted_at=timezone.now(),
        needed_by=timezone.localdate(),
        total_cost=Decimal("70000.00"),
        line_items=[("Seat", "1", "70000.00")],
    )
    draft = over_budget_draft(world, eli)
    client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions["requester_elsewhere"]
    api.cookies[settings.SESSION_COOKIE_NAME] = world.sessions["requester_elsewhere"]

    def panel(**extra):
        response = client.post("/budgets/intake-panel/", over_budget_form(world, **extra))
        assert response.status_code == 200
        return response.content.decode()

    assert FIGURES.search(panel(editing=str(sent_back.pk)))
    preview = client.post(
        "/approvals/approvers-preview/", over_budget_form(world, editing=str(sent_back.pk))
    ).content.decode()
    assert "Owen Owner" in preview and FIGURES.search(preview)
    for editing in ("", str(draft.pk), str(world.overrun.pk), "x", "9" * 30):
        assert not FIGURES.search(panel(editing=editing)), editing
    assert api.get(f"/api/budgets/{world.budget.pk}/").status_code == 404
    assert api.get("/api/budgets/").json()["results"] == []

    blocking(world)
    refused = api.post(f"/api/requests/{draft.pk}/submit/")
    assert refused.status_code == 400
    assert not FIGURES.search(refused.content.decode())
    resubmit = api.post(f"/api/requests/{sent_back.pk}/resubmit/")
    assert resubmit.status_code == 400
    assert FIGURES.search(" ".join(resubmit.json()["department"]))


@pytest.mark.django_db
def test_the_form_tells_the_panels_which_request_it_edits(world, clients):
    client, _ = clients
    mia = world.users["requester_of_department"]
    draft = PurchaseRequestFactory(requester=mia, department=world.marketing)
    client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions["requester_of_department"]
    html = client.get(f"/requests/{draft.pk}/edit/").content.decode()
    assert html.count(f'hx-vals=\'{{"editing": "{draft.pk}"}}\'') == 2
    assert '"editing"' not in client.get("/requests/new/").content.decode()
