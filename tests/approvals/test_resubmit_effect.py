"""Editing a request sent back, the form says before saving what the change restarts, by the
one rule of approvals.carry_over (issue 29, item 4): a material change asks every approver
again; otherwise the approvals of the side that did not ask for changes carry over."""

import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from accounts import roles
from approvals import workflow
from approvals.models import ApprovalRule, ProcessSettings, RuleKind, Side, StepKind
from approvals.services import decide_step
from intake.models import State
from tests.factories import PurchaseRequestFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent_back(requester):
    """15,000.00 EUR in round 1: Ivan Ito approves the IT review, Paula Pike asks for changes.
    Above 25,000 the CIO (Cora Chen) and the CPO (Cleo Cole) sign off too, at stage 2."""
    ApprovalRule.objects.filter(kind=RuleKind.VENDOR_REVIEW).update(active=False)
    for name, side in ((roles.CIO, Side.IT), (roles.CPO, Side.PROCUREMENT)):
        ApprovalRule.objects.create(
            name=f"{name} above 25k",
            min_total=Decimal("25000"),
            reviewer_group=Group.objects.get(name=name),
            side=side,
            stage=2,
        )
    ivan = UserFactory(first_name="Ivan", last_name="Ito", roles=[roles.IT_REVIEWERS])
    paula = UserFactory(first_name="Paula", last_name="Pike", roles=[roles.PROCUREMENT])
    UserFactory(first_name="Cora", last_name="Chen", roles=[roles.CIO])
    UserFactory(first_name="Cleo", last_name="Cole", roles=[roles.CPO])
    purchase_request = PurchaseRequestFactory(
        requester=requester,
        total_cost=Decimal("15000.00"),
        line_items=[("Platform licence", "1", "15000.00")],
    )
    workflow.submit_request(purchase_request, by=requester)
    steps = {s.side: s for s in purchase_request.steps.filter(kind=StepKind.REVIEW)}
    decide_step(steps[Side.IT], by=ivan, decision="approve", comment="Secure.")
    decide_step(steps[Side.PROCUREMENT], by=paula, decision="request_changes", comment="Quote?")
    purchase_request.refresh_from_db()
    assert purchase_request.state == State.CHANGES_REQUESTED
    return purchase_request


def form_of(purchase_request, unit_price="15000.00", **overrides):
    """The edit form as the requester's browser posts it to the preview."""
    data = {
        "editing": str(purchase_request.pk),
        "title": purchase_request.title,
        "category": str(purchase_request.category_id),
        "department": str(purchase_request.department_id),
        "needed_by": purchase_request.needed_by.isoformat(),
        "currency": "EUR",
        "billing": "one_off",
        "vendor": str(purchase_request.vendor_id),
        "data_classification": "internal",
        "handles_personal_data": "false",
        "items-TOTAL_FORMS": "1",
        "items-INITIAL_FORMS": "0",
        "items-0-description": "Platform licence",
        "items-0-quantity": "1",
        "items-0-unit_price": unit_price,
    }
    data.update(overrides)
    return data


def effect(client, data) -> str:
    """The words the preview puts beside the submit button ("" when it puts none there)."""
    page = client.post("/approvals/approvers-preview/", data).content.decode()
    place = r'<div id="change-effect" hx-swap-oob="innerHTML">(.*?)</div>\s*$'
    found = re.search(place, page, re.S)
    return " ".join(re.sub(r"<[^>]+>", "", found.group(1)).split()) if found else ""


def test_the_same_cost_says_whose_approval_carries_over(client, requester, sent_back):
    client.force_login(requester)
    assert effect(client, form_of(sent_back, unit_price="16000.00")) == (
        "Not a material change: Ivan Ito's approval (IT review) carries over; "
        "Paula Pike (Procurement) is asked again."
    )


def test_doubling_the_cost_asks_every_approver_again(client, requester, sent_back):
    client.force_login(requester)
    assert effect(client, form_of(sent_back, unit_price="30000.00")) == (
        "This change restarts the review: the total cost rose from 15,000.00 EUR to 30,000.00 EUR, "
        "more than the 10% tolerance. All four approvers are asked again: Ivan Ito (IT review), "
        "Paula Pike (Procurement), Cora Chen (CIO) and Cleo Cole (CPO)."
    )
    # What the warning said is what resubmitting does.
    sent_back.line_items.update(unit_price=Decimal("30000.00"))
    sent_back.total_cost = sent_back.total_cost_base = Decimal("30000.00")
    sent_back.save()
    workflow.resubmit_request(sent_back, by=requester)
    again = sent_back.steps.filter(kind=StepKind.REVIEW, round=2)
    assert again.count() == 4 and not again.filter(carried_from__isnull=False).exists()


def test_another_vendor_is_material_too(client, requester, sent_back):
    client.force_login(requester)
    words = effect(client, form_of(sent_back, vendor="", proposed_vendor_name="Acme New"))
    assert words.startswith("This change restarts the review: the vendor changed.")


def test_without_carry_over_every_approver_is_asked_again(client, requester, sent_back):
    config = ProcessSettings.current()
    config.carry_over_approvals = False
    config.save()
    client.force_login(requester)
    assert effect(client, form_of(sent_back)) == (
        "Not a material change, but approvals do not carry over here (an admin's setting): "
        "both approvers are asked again."
    )


def test_nothing_is_said_of_a_request_never_submitted_or_of_someone_elses(
    client, requester, other_requester, sent_back
):
    draft = PurchaseRequestFactory(requester=requester)
    client.force_login(requester)
    page = client.post("/approvals/approvers-preview/", form_of(draft)).content.decode()
    assert '<div id="change-effect" hx-swap-oob="innerHTML">' in page
    assert effect(client, form_of(draft)) == ""
    assert (
        "change-effect"
        not in client.post(
            "/approvals/approvers-preview/", {**form_of(draft), "editing": ""}
        ).content.decode()
    )
    client.force_login(other_requester)
    assert (
        "change-effect"
        not in client.post("/approvals/approvers-preview/", form_of(sent_back)).content.decode()
    )


def test_the_edit_page_keeps_a_place_for_the_warning_beside_the_submit_button(
    client, requester, sent_back
):
    client.force_login(requester)
    page = client.get(f"/requests/{sent_back.pk}/edit/").content.decode()
    place = page.index('<div id="change-effect" aria-live="polite"></div>')
    assert place < page.index(">Save and resubmit</button>")
    assert place > page.index('id="approvers-preview"')
