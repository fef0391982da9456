"""A small organisation whose figures are worked out by hand in test_figures.py.

Now is 2026-06-15 12:00 UTC. Requests (cycle time = decided - submitted, times in UTC):

| req | state     | department | category | vendor | EUR  | submitted     | decided       | cycle |
|-----|-----------|------------|----------|--------|------|---------------|---------------|-------|
| A   | approved  | Marketing  | SaaS     | Miro   | 1000 | 2026-05-01 9h | 2026-05-02 9h | 1 d   |
| B   | ordered   | Marketing  | Hardware | Dell   | 3000 | 2026-05-03 0h | 2026-05-05 0h | 2 d   |
| C   | closed    | Sales      | SaaS     | Miro   |  500 | 2026-04-01 0h | 2026-04-04 0h | 3 d   |
| D   | rejected  | Sales      | SaaS     | Acme   |  700 | 2026-04-10 0h | 2026-04-14 0h | 4 d   |
| E   | approved  | Sales      | Hardware | Dell   | 2000 | 2026-03-01 0h | 2026-03-11 0h | 10 d  |
| I   | approved  | Marketing  | SaaS     | Miro   |  800 | 2025-05-10 0h | 2025-05-15 0h | 5 d   |
| F   | in_review | Marketing  | SaaS     | Miro   | 5000 | 2026-06-10 0h |               |       |
| G   | in_review | Sales      | Hardware | Dell   | 1500 | 2026-06-12 0h |               |       |
| H   | draft     | Marketing  | SaaS     | Miro   | 9999 |               |               |       |

E was sent back for changes once (round 1, by IT). Steps (SLA counted from opening):

| step  | side        | state             | opened   | decided  | SLA  | time | breached        |
|-------|-------------|-------------------|----------|----------|------|------|-----------------|
| A-IT  | it          | approved          | 05-01 9h | 05-01 21 | 48 h | 12 h | no              |
| A-P   | procurement | approved          | 05-01 9h | 05-02 9h | 48 h | 24 h | no              |
| B-IT  | it          | approved          | 05-03 0h | 05-04 0h | 12 h | 24 h | yes (late)      |
| B-P   | procurement | approved          | 05-03 0h | 05-05 0h | 48 h | 48 h | no (on the dot) |
| B-F   | finance     | approved          | 05-04 0h | 05-04 6h | 48 h | 6 h  | no              |
| E1-IT | it          | changes_requested | 03-01 0h | 03-03 0h | 24 h | 48 h | yes (late)      |
| E1-P  | procurement | superseded        | 03-01 0h |          | 48 h |      | no              |
| E2-IT | it          | approved          | 03-05 0h | 03-06 0h | 48 h | 24 h | no              |
| E2-P  | procurement | approved          | 03-05 0h | 03-11 0h | 48 h | 144h | yes (late)      |
| F-IT  | it          | open              | 06-10 0h |          | 48 h |      | yes (open, due) |
| F-P   | procurement | open              | 06-10 0h |          | 240h |      | no              |
| G-IT  | it          | waiting           |          |          | 48 h |      | not opened      |
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from accounts import roles
from approvals.models import ApprovalStep, Side, StepState
from intake.models import Category, PurchaseRequest, State
from tests.factories import (
    CategoryFactory,
    DepartmentFactory,
    PurchaseRequestFactory,
    UserFactory,
    VendorFactory,
)
from vendors.models import Certificate, Contract

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
GROUP_OF_SIDE = {
    Side.IT: roles.IT_REVIEWERS,
    Side.PROCUREMENT: roles.PROCUREMENT,
    Side.FINANCE: roles.FINANCE,
}


def at(month: int, day: int, hour: int = 0, *, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


@pytest.fixture
def now(time_machine):
    time_machine.move_to(NOW, tick=False)
    return NOW


def add_request(state, *, department, category, vendor, cost, submitted=None, decided=None):
    """A request in `state` with its submission and decision times set as the table says."""
    request = PurchaseRequestFactory(
        state=state,
        requester=UserFactory(department=department),
        department=department,
        category=category,
        vendor=vendor,
        total_cost=Decimal(cost),
    )
    PurchaseRequest.objects.filter(pk=request.pk).update(submitted_at=submitted, decided_at=decided)
    return request


def add_step(request, side, state, *, opened=None, decided=None, sla=48, round=1, stage=1):
    return ApprovalStep.objects.create(
        request=request,
        side=side,
        group=Group.objects.get(name=GROUP_OF_SIDE[side]),
        round=round,
        stage=stage,
        state=state,
        rule_name="test",
        sla_hours=sla,
        repeat_every_hours=24,
        escalate_after_hours=96,
        opened_at=opened,
        due_at=opened + timedelta(hours=sla) if opened else None,
        decided_at=decided,
    )


@dataclass
class World:
    marketing: object
    sales: object
    requests: dict


@pytest.fixture
def world(now, db) -> World:
    marketing = DepartmentFactory(name="Marketing", cost_centre="CC-100")
    sales = DepartmentFactory(name="Sales", cost_centre="CC-500")
    saas = CategoryFactory()
    hardware = Category.objects.get(slug="hardware")
    miro, dell, acme = (VendorFactory(name=name) for name in ("Miro", "Dell", "Acme"))
    last_year = (at(5, 10, year=2025), at(5, 15, year=2025))
    rows = {
        "A": (State.APPROVED, marketing, saas, miro, 1000, at(5, 1, 9), at(5, 2, 9)),
        "B": (State.ORDERED, marketing, hardware, dell, 3000, at(5, 3), at(5, 5)),
        "C": (State.CLOSED, sales, saas, miro, 500, at(4, 1), at(4, 4)),
        "D": (State.REJECTED, sales, saas, acme, 700, at(4, 10), at(4, 14)),
        "E": (State.APPROVED, sales, hardware, dell, 2000, at(3, 1), at(3, 11)),
        "I": (State.APPROVED, marketing, saas, miro, 800, last_year[0], last_year[1]),
        "F": (State.IN_REVIEW, marketing, saas, miro, 5000, at(6, 10), None),
        "G": (State.IN_REVIEW, sales, hardware, dell, 1500, at(6, 12), None),
        "H": (State.DRAFT, marketing, saas, miro, 9999, None, None),
    }  # fmt: skip
    requests = {
        key: add_request(
            state,
            department=dept,
            category=category,
            vendor=vendor,
            cost=cost,
            submitted=submitted,
            decided=decided,
        )
        for key, (state, dept, category, vendor, cost, submitted, decided) in rows.items()
    }
    r, it, proc, fin = requests, Side.IT, Side.PROCUREMENT, Side.FINANCE
    approved, open_ = StepState.APPROVED, StepState.OPEN
    add_step(r["A"], it, approved, opened=at(5, 1, 9), decided=at(5, 1, 21))
    add_step(r["A"], proc, approved, opened=at(5, 1, 9), decided=at(5, 2, 9))
    add_step(r["B"], it, approved, opened=at(5, 3), decided=at(5, 4), sla=12)
    add_step(r["B"], proc, approved, opened=at(5, 3), decided=at(5, 5))
    add_step(r["B"], fin, approved, opened=at(5, 4), decided=at(5, 4, 6), stage=2)
    add_step(r["E"], it, StepState.CHANGES_REQUESTED, opened=at(3, 1), decided=at(3, 3), sla=24)
    add_step(r["E"], proc, StepState.SUPERSEDED, opened=at(3, 1))
    add_step(r["E"], it, approved, opened=at(3, 5), decided=at(3, 6), round=2)
    add_step(r["E"], proc, approved, opened=at(3, 5), decided=at(3, 11), round=2)
    add_step(r["F"], it, open_, opened=at(6, 10))
    add_step(r["F"], proc, open_, opened=at(6, 10), sla=240)
    add_step(r["G"], it, StepState.WAITING)
    return World(marketing=marketing, sales=sales, requests=requests)


@pytest.fixture
def renewals(now, db):
    """Contracts and certificates around the 90-day horizon (today 2026-06-15, horizon
    2026-09-13 inclusive)."""
    owner = UserFactory(username="owen")
    vendor = VendorFactory(name="Atlassian")
    contracts = {}
    for title, ends_on in [
        ("Ended yesterday", date(2026, 6, 14)),
        ("Ends today", date(2026, 6, 15)),
        ("Ends on the horizon", date(2026, 9, 13)),
        ("Ends after the horizon", date(2026, 9, 14)),
    ]:
        contracts[title] = Contract.objects.create(
            vendor=vendor,
            title=title,
            starts_on=date(2025, 1, 1),
            ends_on=ends_on,
            annual_value=Decimal("1200.00"),
            notice_days=60,
            owner=owner,
        )
    for kind, expires_on in [
        ("soc2_type2", date(2026, 6, 14)),
        ("iso27001", date(2026, 7, 1)),
        ("gdpr_dpa", date(2026, 9, 13)),
        ("pci_dss", date(2026, 12, 1)),
    ]:
        Certificate.objects.create(
            vendor=vendor,
            kind=kind,
            issuer="Auditor",
            issued_on=date(2025, 1, 1),
            expires_on=expires_on,
            uploaded_by=owner,
        )
    return contracts


@pytest.fixture
def finance_reviewer(db):
    return UserFactory(username="fiona", roles=[roles.FINANCE])
