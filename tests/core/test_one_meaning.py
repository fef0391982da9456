"""One home per rule (issue #31 item 2), pinned: what "admin" means, and who sees renewals,
asked the same way by every policy, selector, page and API."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from accounts import roles
from accounts.models import User
from approvals import policies as approval_policies
from budgets import policies as budget_policies
from budgets import selectors as budget_selectors
from budgets.models import Renewal
from core.policies import ADMINS, is_admin
from operations.policies import can_operate
from tests.factories import PurchaseRequestFactory, UserFactory, VendorFactory
from vendors import policies as vendor_policies
from vendors.models import Contract

pytestmark = pytest.mark.django_db

ADMIN_ASKING = [
    ("operations page", can_operate),
    ("routing rules", approval_policies.can_manage_rules),
    ("budget import", budget_policies.can_import_budgets),
    ("renewals", budget_policies.can_view_renewals),
    ("vendor records", vendor_policies.can_manage_vendor),
    ("every request", roles.sees_everything),
]


@pytest.mark.parametrize(("what", "policy"), ADMIN_ASKING)
def test_an_admin_is_whom_the_admin_site_lets_in_for_every_policy(what, policy):
    staff = UserFactory(is_staff=True)
    superuser_only = UserFactory(is_superuser=True, is_staff=False)
    left = UserFactory(is_staff=True, is_active=False)
    assert bool(policy(staff)), what
    assert not bool(policy(superuser_only)), what
    assert not bool(policy(left)), what


def test_the_query_says_what_the_function_says():
    people = [
        UserFactory(is_staff=True),
        UserFactory(is_superuser=True, is_staff=False),
        UserFactory(is_staff=True, is_active=False),
        UserFactory(),
    ]
    assert set(User.objects.filter(ADMINS)) == {p for p in people if is_admin(p)}


@pytest.fixture
def renewals():
    owner, other_owner = UserFactory(), UserFactory()

    def renewal_of(person, name):
        contract = Contract.objects.create(
            vendor=VendorFactory(name=name), title=f"{name} licences",
            starts_on=date(2026, 1, 1), ends_on=date(2026, 1, 1) + timedelta(days=365),
            notice_days=30, annual_value=Decimal("1000"), owner=person,
        )  # fmt: skip
        request = PurchaseRequestFactory(requester=person, vendor=contract.vendor)
        return Renewal.objects.create(
            contract=contract, request=request, term_ends_on=contract.ends_on
        )

    return owner, renewal_of(owner, "Figma"), renewal_of(other_owner, "Miro")


def test_a_contract_owner_sees_their_own_renewals_on_the_page_and_the_api(client, renewals):
    owner, own, others = renewals
    assert budget_policies.can_view_renewals(owner)
    assert list(budget_selectors.renewals_visible_to(owner)) == [own]
    client.force_login(owner)
    page = client.get("/budgets/renewals/")
    assert page.status_code == 200
    assert "Figma licences" in page.content.decode()
    assert "Miro licences" not in page.content.decode()


def test_someone_without_a_contract_or_a_role_sees_no_renewals(client, renewals):
    stranger = UserFactory()
    assert not budget_policies.can_view_renewals(stranger)
    client.force_login(stranger)
    assert client.get("/budgets/renewals/").status_code == 403


def test_procurement_sees_every_renewal(renewals, procurement):
    _, own, others = renewals
    assert set(budget_selectors.renewals_visible_to(procurement)) == {own, others}
