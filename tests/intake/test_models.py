from decimal import Decimal

import pytest
from django_fsm import TransitionNotAllowed

from intake.models import Billing, State, total_cost_of_ownership
from tests.factories import PurchaseRequestFactory


@pytest.mark.parametrize(
    ("billing", "term", "expected"),
    [
        (Billing.ONE_OFF, None, Decimal("1200.10")),
        (Billing.ONE_OFF, 36, Decimal("1200.10")),
        (Billing.MONTHLY, 12, Decimal("14401.20")),
        (Billing.ANNUAL, 36, Decimal("3600.30")),
        (Billing.ANNUAL, 30, Decimal("3600.30")),  # three started years
        (Billing.ANNUAL, 12, Decimal("1200.10")),
        (Billing.MONTHLY, None, None),
    ],
)
def test_total_cost_of_ownership_over_the_term(billing, term, expected):
    assert total_cost_of_ownership(Decimal("1200.10"), billing, term) == expected


def test_total_cost_is_decimal_rounded_to_cents():
    total = total_cost_of_ownership(Decimal("0.005"), Billing.MONTHLY, 1)
    assert total == Decimal("0.01")
    assert isinstance(total, Decimal)


@pytest.mark.django_db
def test_assigning_the_state_directly_raises():
    purchase_request = PurchaseRequestFactory()
    with pytest.raises(AttributeError, match="Direct state modification is not allowed"):
        purchase_request.state = State.APPROVED


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "transition", "kwargs", "end"),
    [
        (State.DRAFT, "submit", {}, State.IN_REVIEW),
        (State.CHANGES_REQUESTED, "resubmit", {}, State.IN_REVIEW),
        (State.DRAFT, "withdraw", {}, State.WITHDRAWN),
        (State.IN_REVIEW, "withdraw", {}, State.WITHDRAWN),
        (State.CHANGES_REQUESTED, "withdraw", {}, State.WITHDRAWN),
        (State.IN_REVIEW, "approve", {}, State.APPROVED),
        (State.IN_REVIEW, "reject", {}, State.REJECTED),
        (State.IN_REVIEW, "request_changes", {}, State.CHANGES_REQUESTED),
        (State.APPROVED, "mark_ordered", {"po_number": "PO-1", "ordered_on": None}, State.ORDERED),
        (State.ORDERED, "close", {"received_on": None}, State.CLOSED),
    ],
)
def test_lifecycle_transitions(start, transition, kwargs, end):
    purchase_request = PurchaseRequestFactory(state=start)
    getattr(purchase_request, transition)(**kwargs)
    assert purchase_request.state == end


@pytest.mark.django_db
@pytest.mark.parametrize("terminal", [State.REJECTED, State.WITHDRAWN, State.CLOSED])
@pytest.mark.parametrize("transition", ["submit", "resubmit", "withdraw", "approve"])
def test_terminal_states_allow_no_transition(terminal, transition):
    purchase_request = PurchaseRequestFactory(state=terminal)
    with pytest.raises(TransitionNotAllowed):
        getattr(purchase_request, transition)()
