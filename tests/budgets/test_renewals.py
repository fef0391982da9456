"""Renewals: a draft renewal request per contract term, a configurable number of days before
the notice deadline, exactly once; undecided ones go to the CIO and the CPO (SPEC §8a)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection

from budgets import selectors, services
from budgets.models import Renewal
from intake.models import PurchaseRequest
from notifications.models import Notification
from tests.approvals.test_concurrency import run_together
from tests.factories import PurchaseRequestFactory, UserFactory, VendorFactory
from vendors.models import Contract

TODAY = date(2026, 12, 2)


@pytest.fixture
def contract_owner(db):
    return UserFactory(username="carl", first_name="Carl", last_name="Contract")


@pytest.fixture
def make_contract(contract_owner):
    def make(ends_on, *, notice_days=30, seats=None, annual_value="12000", **fields):
        return Contract.objects.create(
            vendor=fields.pop("vendor", None) or VendorFactory(name="Figma"),
            title=fields.pop("title", "Figma Enterprise"),
            starts_on=fields.pop("starts_on", ends_on - timedelta(days=365)),
            ends_on=ends_on,
            notice_days=notice_days,
            annual_value=Decimal(annual_value),
            seats=seats,
            owner=contract_owner,
            **fields,
        )

    return make


@pytest.mark.django_db
def test_running_the_schedule_twice_creates_one_renewal_request_per_term(
    make_contract, contract_owner
):
    # Notice deadline 2027-02-01 (end 2027-03-03, 30 days' notice): due from 2026-11-03.
    contract = make_contract(date(2027, 3, 3), seats=40)
    assert services.run_renewal_schedule(TODAY)["created"] == 1
    assert services.run_renewal_schedule(TODAY)["created"] == 0
    renewal = Renewal.objects.get()
    purchase_request = renewal.request
    assert PurchaseRequest.objects.count() == 1
    assert purchase_request.state == "draft"
    assert purchase_request.requester == contract_owner
    assert purchase_request.vendor == contract.vendor
    assert (purchase_request.billing, purchase_request.term_months) == ("annual", 12)
    assert purchase_request.needed_by == date(2027, 3, 4)
    assert purchase_request.total_cost == Decimal("12000.00")
    item = purchase_request.line_items.get()
    assert (item.quantity, item.unit_price) == (Decimal("40"), Decimal("300.00"))
    assert list(contract.requests.all()) == [purchase_request]
    notices = Notification.objects.filter(recipient=contract_owner, channel="in_app")
    assert notices.count() == 1
    assert "Renewal to decide" in notices.get().subject


@pytest.mark.django_db
def test_the_renewal_s_timeline_says_where_it_came_from(client, make_contract, contract_owner):
    make_contract(date(2027, 3, 3))
    services.run_renewal_schedule(TODAY)
    client.force_login(contract_owner)
    page = client.get(Renewal.objects.get().request.get_absolute_url()).content.decode()
    assert "Renewal drafted from the contract ending 3 Mar 2027" in page


@pytest.mark.django_db
def test_the_next_term_gets_its_own_renewal(make_contract):
    contract = make_contract(date(2027, 3, 3))
    services.run_renewal_schedule(TODAY)
    contract.ends_on = date(2028, 3, 3)
    contract.save()
    assert services.run_renewal_schedule(date(2027, 12, 2))["created"] == 1
    assert Renewal.objects.filter(contract=contract).count() == 2


@pytest.mark.django_db
def test_nothing_is_drafted_before_the_lead_time_or_after_the_deadline(settings, make_contract):
    make_contract(date(2027, 6, 1))  # deadline 2027-05-02: due from 2027-02-01
    make_contract(date(2026, 12, 20), vendor=VendorFactory())  # deadline passed 2026-11-20
    assert services.create_due_renewals(TODAY) == 0
    settings.TANDEM_RENEWAL_LEAD_DAYS = 160
    assert services.create_due_renewals(TODAY) == 1


@pytest.mark.django_db
def test_a_contract_without_seats_renews_as_one_line_and_keeps_the_last_request(
    make_contract, software
):
    contract = make_contract(date(2027, 1, 15), annual_value="9999.99")
    previous = PurchaseRequestFactory(category=software, data_classification="confidential")
    contract.requests.add(previous)
    renewal = services.create_renewal(contract)
    purchase_request = renewal.request
    assert purchase_request.line_items.get().unit_price == Decimal("9999.99")
    assert purchase_request.category == software
    assert purchase_request.department == previous.department
    assert purchase_request.data_classification == "confidential"


@pytest.mark.django_db
def test_undecided_renewals_are_escalated_once_to_cio_and_cpo(make_contract, cio, cpo):
    contract = make_contract(date(2027, 1, 5))  # deadline 2026-12-06
    services.create_due_renewals(TODAY)
    assert services.escalate_undecided_renewals(date(2026, 11, 28)) == 0
    assert services.escalate_undecided_renewals(TODAY) == 1
    assert services.escalate_undecided_renewals(TODAY) == 0
    for leader in (cio, cpo):
        assert (
            Notification.objects.filter(
                recipient=leader, channel="in_app", subject__startswith="Renewal undecided"
            ).count()
            == 1
        )
    renewal = Renewal.objects.get(contract=contract)
    assert not selectors.deadline_missed(renewal, TODAY)
    assert selectors.deadline_missed(renewal, date(2026, 12, 7))
    assert "waiting for Carl Contract to submit" in selectors.renewal_status(renewal)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_two_schedulers_at_once_draft_one_renewal(make_contract, attempt):
    make_contract(date(2027, 3, 3))
    outcomes = run_together(
        lambda: services.create_due_renewals(TODAY), lambda: services.create_due_renewals(TODAY)
    )
    assert sorted(outcomes) == [0, 1], outcomes
    assert Renewal.objects.count() == 1
    assert PurchaseRequest.objects.count() == 1
    connection.close()
