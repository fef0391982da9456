from datetime import date
from decimal import Decimal

import pytest

from budgets.models import Budget
from intake.models import Category
from tests.factories import DepartmentFactory, PurchaseRequestFactory, UserFactory


@pytest.fixture
def department(db):
    return DepartmentFactory(name="Marketing", cost_centre="MKT")


@pytest.fixture
def budget_owner(db, department):
    return UserFactory(username="olga", first_name="Olga", last_name="Owner", roles=["finance"])


@pytest.fixture
def software(db):
    return Category.objects.get_or_create(
        slug="software-licence", defaults={"name": "Software licence"}
    )[0]


@pytest.fixture
def make_budget(department, budget_owner):
    def make(amount, *, fiscal_year=2026, **fields):
        fields.setdefault("department", department)
        fields.setdefault("owner", budget_owner)
        return Budget.objects.create(amount=Decimal(amount), fiscal_year=fiscal_year, **fields)

    return make


@pytest.fixture
def charged(department):
    """A request charged to the department: `charged(state, total, starts, billing, term)`."""

    def make(state, total, starts: date, billing="one_off", term=None, **fields):
        fields.setdefault("department", department)
        return PurchaseRequestFactory(
            state=state,
            total_cost=Decimal(total),
            billing=billing,
            term_months=term,
            needed_by=starts,
            **fields,
        )

    return make
