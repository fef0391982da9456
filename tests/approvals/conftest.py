from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from approvals import workflow
from approvals.models import ApprovalRule, RuleKind, Side
from tests.factories import PurchaseRequestFactory


@pytest.fixture
def group():
    return lambda name: Group.objects.get(name=name)


@pytest.fixture
def leadership_rules(db, group):
    """Stage 1: IT security reviews personal data, procurement vets vendors not yet approved.
    Stage 2: above 25,000 the CIO and the CPO sign off. The joint vendor review (which would
    hold these steps until the vendor is approved) is switched off here, as an admin may."""
    ApprovalRule.objects.filter(kind=RuleKind.VENDOR_REVIEW).update(active=False)
    return [
        ApprovalRule.objects.create(
            name="Security review of personal data",
            personal_data=True,
            reviewer_group=group("it_reviewers"),
            side=Side.IT,
            stage=1,
        ),
        ApprovalRule.objects.create(
            name="Procurement checks vendors not approved yet",
            vendor_statuses=["new", "prospective", "under_review"],
            reviewer_group=group("procurement"),
            side=Side.PROCUREMENT,
            stage=1,
        ),
        ApprovalRule.objects.create(
            name="CIO above 25k",
            min_total=Decimal("25000"),
            reviewer_group=group("cio"),
            side=Side.IT,
            stage=2,
        ),
        ApprovalRule.objects.create(
            name="CPO above 25k",
            min_total=Decimal("25000"),
            reviewer_group=group("cpo"),
            side=Side.PROCUREMENT,
            stage=2,
        ),
    ]


@pytest.fixture
def submitted(requester):
    """Submits a complete request and returns it with its steps."""

    def submit(**fields):
        purchase_request = PurchaseRequestFactory(requester=requester, **fields)
        return workflow.submit_request(purchase_request, by=requester)

    return submit


@pytest.fixture
def auto_approve_rule(db):
    return ApprovalRule.objects.create(
        name="Catalog hardware under 2k", kind=RuleKind.AUTO_APPROVE, max_total=Decimal("2000")
    )
