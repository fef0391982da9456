"""A renewal drafts its request through `intake.services.create_request`, which refuses a
vendor or category a request may not name (issue 27, item 2). The schedule must not fail on it:
the draft leaves that choice to the contract's owner, and submit refuses it until they choose."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from approvals import workflow
from budgets import services
from intake.models import Category, State
from tests.factories import CategoryFactory, PurchaseRequestFactory, UserFactory, VendorFactory
from vendors.models import Contract, Vendor, VendorStatus

pytestmark = pytest.mark.django_db


def test_a_renewal_with_an_offboarded_vendor_and_a_retired_category_is_still_drafted():
    owner = UserFactory(username="carl")
    vendor = VendorFactory(name="Gone Hosting")
    category = CategoryFactory(name="Fax machines", slug="fax")
    contract = Contract.objects.create(
        vendor=vendor,
        title="Fax lines",
        starts_on=date(2026, 1, 1),
        ends_on=date(2026, 1, 1) + timedelta(days=365),
        annual_value=Decimal("1200"),
        owner=owner,
    )
    contract.requests.add(PurchaseRequestFactory(vendor=vendor, category=category))
    Vendor.objects.filter(pk=vendor.pk).update(status=VendorStatus.OFFBOARDED)
    Category.objects.filter(pk=category.pk).update(active=False)

    renewal = services.create_renewal(Contract.objects.get(pk=contract.pk))  # as the schedule

    draft = renewal.request
    assert (draft.state, draft.vendor, draft.category) == (State.DRAFT, None, None)
    assert "Gone Hosting" in draft.description  # the owner still reads whom it was with
    with pytest.raises(ValidationError) as refused:
        workflow.submit_request(draft, by=owner)
    assert refused.value.message_dict["vendor"] == ["Choose a vendor or propose a new one."]
