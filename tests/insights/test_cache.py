"""The figures' cache (PostgreSQL): figures are reused only while no table they read has been
written (the data version of insights/migrations/0001), on the same day and before an open
step passes its due time; every commit is seen at once. Transactional tests: the cache serves
only reads outside a transaction."""

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection, transaction

from approvals.models import Side, StepState
from insights import selectors
from insights.policies import EVERYTHING, Scope
from insights.selectors import FigureFilters
from intake.models import State
from vendors.models import Vendor

from .conftest import NOW, add_request, add_step, at

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def same(cached, computed) -> bool:
    """Equal figures, whenever each was worked out."""
    return replace(cached, generated_at=computed.generated_at) == computed


def test_unchanged_figures_are_read_from_the_cache(world, django_assert_num_queries):
    first = selectors.figures(EVERYTHING)
    # The data version only: no figure is read again.
    with django_assert_num_queries(1):
        again = selectors.figures(EVERYTHING)
    assert same(again, first)
    assert same(again, selectors.compute_figures(EVERYTHING))


def test_each_scope_and_filter_has_its_own_figures(world):
    scopes = [EVERYTHING, Scope(sides=frozenset({"it"})), Scope(sides=frozenset({"finance"}))]
    filters = [
        selectors.NO_FILTERS,
        FigureFilters(department=world.marketing),
        FigureFilters(date_from=at(4, 1).date(), date_to=at(5, 1).date()),
    ]
    for _ in range(2):  # computed, then read from the cache
        for scope in scopes:
            for figure_filters in filters:
                assert same(
                    selectors.figures(scope, figure_filters),
                    selectors.compute_figures(scope, figure_filters),
                )


def test_a_committed_request_is_counted_at_once(world):
    before = selectors.figures(EVERYTHING)
    add_request(
        State.REJECTED,
        department=world.sales,
        category=world.requests["A"].category,
        vendor=world.requests["A"].vendor,
        cost=100,
        submitted=at(6, 1),
        decided=at(6, 2),
    )
    after = selectors.figures(EVERYTHING)
    assert (before.decisions.decided, after.decisions.decided) == (6, 7)
    assert (before.decisions.rejected, after.decisions.rejected) == (1, 2)


def test_a_renamed_vendor_is_seen_at_once(world):
    before = selectors.figures(EVERYTHING).spend["vendor"]
    Vendor.objects.filter(name="Dell").update(name="Dell Technologies")
    after = selectors.figures(EVERYTHING).spend["vendor"]
    assert "Dell" in [s.label for s in before.series]
    assert "Dell Technologies" in [s.label for s in after.series]
    assert "Dell" not in [s.label for s in after.series]


def test_a_step_falling_due_is_a_breach_at_once(world, time_machine):
    """No commit, the same day, well within the cache's timeout: only time passes the due time
    of an open step."""
    due = NOW + timedelta(minutes=2)
    add_step(world.requests["G"], Side.FINANCE, StepState.OPEN, opened=due - timedelta(hours=48))
    before = selectors.figures(EVERYTHING).sla.breached
    time_machine.move_to(due, tick=False)
    assert selectors.figures(EVERYTHING).sla.breached == before  # due, not past due
    time_machine.move_to(due + timedelta(seconds=1), tick=False)
    assert selectors.figures(EVERYTHING).sla.breached == before + 1


def test_a_new_day_moves_the_windows(world, renewals, time_machine):
    before = selectors.figures(EVERYTHING)
    time_machine.move_to(NOW + timedelta(days=1), tick=False)
    after = selectors.figures(EVERYTHING)
    # "Ends today" ended yesterday; the horizon moved a day on, to the next contract.
    assert [c.title for c in before.renewals] == ["Ends today", "Ends on the horizon"]
    assert [c.title for c in after.renewals] == ["Ends on the horizon", "Ends after the horizon"]


def test_inside_a_transaction_its_own_writes_are_counted(world):
    selectors.figures(EVERYTHING)
    with transaction.atomic():
        world.requests["F"].__class__.objects.filter(pk=world.requests["F"].pk).update(
            total_cost_base=Decimal("6000.00")
        )
        assert selectors.figures(EVERYTHING).open_value.total == Decimal("7500.00")
        transaction.set_rollback(True)
    assert selectors.figures(EVERYTHING).open_value.total == Decimal("6500.00")


def test_a_write_in_flight_elsewhere_is_counted_once_committed(world):
    """Between a writer's statement and its commit the version has moved but its rows are not
    visible yet: figures read then are not kept, so the commit is seen at once."""
    before = selectors.figures(EVERYTHING).open_value.total
    writer = connection.get_new_connection(connection.get_connection_params())
    try:
        with writer.cursor() as cursor:
            cursor.execute(
                "UPDATE intake_purchaserequest SET total_cost_base = 6000 WHERE id = %s",
                [world.requests["F"].pk],
            )
        assert selectors.INSIGHTS_DATA.current(connection) is None
        assert selectors.figures(EVERYTHING).open_value.total == before
        writer.commit()
    finally:
        writer.close()
    assert selectors.INSIGHTS_DATA.current(connection) is not None
    assert selectors.figures(EVERYTHING).open_value.total == before + Decimal("1000.00")


def test_every_table_the_figures_read_moves_the_data_version(world):
    """Each table of the figures written once (a statement that changes no row still counts):
    the version moves every time."""
    for table in selectors.INSIGHTS_DATA.tables:
        version = selectors.INSIGHTS_DATA.current(connection)
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET id = id WHERE false")
        assert selectors.INSIGHTS_DATA.current(connection) > version, table
