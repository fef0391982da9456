"""Issue #32, slice 1: every change to the rules is a version, with what changed in words, and
each request records the version it was routed under."""

from decimal import Decimal

import pytest

from approvals import rule_versions, rulesets, services
from approvals.models import ApprovalRule, RuleSetVersion, Side
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    return UserFactory(username="ada", is_staff=True, is_superuser=True)


def test_a_rule_change_through_the_service_is_a_version_with_its_change_in_words(admin, group):
    base = rule_versions.current_version()
    rule = services.save_rule(
        None,
        by=admin,
        fields={"name": "CIO sign-off", "min_total": Decimal("25000"),
                "reviewer_group": group("cio"), "side": Side.IT, "stage": 2},
    )  # fmt: skip
    added = rule_versions.latest_version()
    assert added.number == base.number + 1
    assert added.changes[0].startswith("New rule “CIO sign-off”: CIO decides (IT side, stage 2)")

    services.save_rule(rule, by=admin, fields={"min_total": Decimal("50000")})
    changed = rule_versions.latest_version()
    assert changed.number == base.number + 2
    assert changed.created_by == admin
    assert changed.changes == ["CIO sign-off: total cost from 25,000.00 EUR → from 50,000.00 EUR"]
    assert [r["min_total"] for r in changed.rules if r["id"] == rule.pk] == ["50000.00"]

    services.delete_rule(rule, by=admin)
    assert rule_versions.latest_version().changes == ["Removed rule “CIO sign-off”"]


def test_saving_a_rule_unchanged_records_no_new_version(admin):
    rule = ApprovalRule.objects.get(name="Default IT review")
    before = rule_versions.current_version()
    services.save_rule(rule, by=admin, fields={"sla_hours": rule.sla_hours})
    assert rule_versions.latest_version() == before


def test_a_version_keeps_every_rule_with_its_categories_and_departments(admin, group):
    from intake.models import Category

    hardware = Category.objects.get(slug="hardware")
    rule = services.save_rule(
        None,
        by=admin,
        fields={"name": "Hardware", "categories": [hardware], "active": False,
                "reviewer_group": group("it_reviewers"), "side": Side.IT},
    )  # fmt: skip
    data = next(r for r in rule_versions.latest_version().rules if r["id"] == rule.pk)
    assert data["category_ids"] == [hardware.pk]
    assert data["active"] is False
    assert rulesets.snapshot() == rule_versions.latest_version().rules


def test_a_request_records_the_version_it_was_routed_under(submitted, admin):
    version = rule_versions.current_version()
    purchase_request = submitted()
    purchase_request.refresh_from_db()
    assert purchase_request.rules_version == version
    assert RuleSetVersion.objects.filter(number=version.number).exists()


def test_the_first_version_comes_from_the_migration():
    assert RuleSetVersion.objects.filter(number=1).exists()
