"""The routing rule form of the admin (issue 14, item 6): checkboxes instead of JSON, personal
data as either / yes / no, a link from a rule to the rule preview, human labels there."""

import re

import pytest
from django.contrib.auth.models import Group

from accounts import roles
from approvals.models import ApprovalRule
from intake.models import Category
from tests.factories import DepartmentFactory

pytestmark = pytest.mark.django_db

ADD = "/admin/approvals/approvalrule/add/"


def html(response) -> str:
    return response.content.decode()


def rule_data(**overrides):
    data = {
        "name": "Security review of restricted data",
        "active": "on",
        "kind": "route",
        "min_total": "",
        "max_total": "",
        "personal_data": "unknown",
        "reviewer_group": Group.objects.get(name=roles.IT_REVIEWERS).pk,
        "reviewer_user": "",
        "side": "it",
        "stage": "1",
        "sla_hours": "48",
        "repeat_every_hours": "24",
        "escalate_after_hours": "96",
        "escalation_group": "",
        "escalation_user": "",
    }
    data.update(overrides)
    return data


def test_the_rule_form_has_checkboxes_and_either_yes_no_instead_of_json(client, admin_user):
    client.force_login(admin_user)
    page = html(client.get(ADD))
    for name in ("categories", "data_classifications", "vendor_statuses", "vendor_risk_tiers"):
        assert re.search(rf'<input type="checkbox" name="{name}" value="[^"]+"', page), name
    assert '<textarea name="data_classifications"' not in page
    assert '<textarea name="vendor_statuses"' not in page
    assert 'value="under_review"' in page and "Under review" in page
    assert 'value="critical"' in page and "Critical" in page
    radios = re.findall(r'<input type="radio" name="personal_data" value="(\w+)"', page)
    assert radios == ["unknown", "true", "false"]
    either = r'<input type="radio" name="personal_data" value="unknown"[^>]*checked'
    assert re.search(either, page)
    assert "Either" in page
    assert '<select name="departments"' in page  # a multi-select for a long list


def test_ticked_conditions_are_saved_as_lists_and_shown_ticked_again(client, admin_user):
    saas = Category.objects.get(slug="saas-subscription")
    marketing = DepartmentFactory(name="Marketing")
    client.force_login(admin_user)
    data = rule_data(
        categories=[saas.pk],
        data_classifications=["confidential", "restricted"],
        vendor_statuses=["new", "prospective"],
        vendor_risk_tiers=["high"],
        departments=[marketing.pk],
        personal_data="true",
    )
    response = client.post(ADD, data)
    assert response.status_code == 302, html(response)
    rule = ApprovalRule.objects.get(name="Security review of restricted data")
    assert rule.data_classifications == ["confidential", "restricted"]
    assert rule.vendor_statuses == ["new", "prospective"]
    assert rule.vendor_risk_tiers == ["high"]
    assert rule.personal_data is True
    assert list(rule.categories.all()) == [saas]

    page = html(client.get(f"/admin/approvals/approvalrule/{rule.pk}/change/"))
    assert re.search(r'name="data_classifications" value="restricted"[^>]*checked', page)
    assert re.search(r'name="personal_data" value="true"[^>]*checked', page)


def test_a_value_outside_the_choices_is_refused_with_the_field_named(client, admin_user):
    client.force_login(admin_user)
    response = client.post(ADD, rule_data(vendor_risk_tiers=["extreme"]))
    assert response.status_code == 200
    assert "Select a valid choice. extreme is not one of the available choices." in html(response)
    assert not ApprovalRule.objects.filter(name="Security review of restricted data").exists()


def test_a_rule_links_to_the_preview_of_a_request_it_matches(client, admin_user):
    rule = ApprovalRule.objects.create(
        name="Restricted data needs the CIO",
        reviewer_group=Group.objects.get(name=roles.CIO),
        side="it",
        stage=2,
        min_total="10000",
        data_classifications=["restricted"],
        vendor_statuses=["under_review"],
        personal_data=True,
    )
    client.force_login(admin_user)
    page = html(client.get(f"/admin/approvals/approvalrule/{rule.pk}/change/"))
    link = f'href="/approvals/rules/preview/?rule={rule.pk}"'
    assert link in page
    assert link in html(client.get("/admin/approvals/approvalrule/"))

    preview = html(client.get(f"/approvals/rules/preview/?rule={rule.pk}"))
    assert "Restricted data needs the CIO" in preview
    result = re.search(r'id="preview-result".*?</section>', preview, re.S).group()
    # Human words, not stored values: the side's name, the status and classification labels.
    assert "Restricted data needs the CIO: total cost 10,000.00 EUR" in result
    assert "data classification is restricted" in result
    assert "vendor status is under review" in result
    assert "under_review" not in result
    assert re.search(r"<td>Stage 2</td><td>IT</td>", result)
    assert "<td>it</td>" not in result


def test_an_unknown_rule_in_the_preview_link_shows_the_empty_preview(client, admin_user):
    client.force_login(admin_user)
    response = client.get("/approvals/rules/preview/?rule=999999")
    assert response.status_code == 200
    assert 'id="preview-rule"' not in html(response)
    for value in ("abc", "-1"):  # no rule id: the 400 page says so
        response = client.get(f"/approvals/rules/preview/?rule={value}")
        assert response.status_code == 400
        assert "rule: Give a whole number" in html(response)


def test_a_rule_saved_in_the_admin_is_a_new_version_with_its_categories(client, admin_user):
    """Issue #32: the admin's save records the version after the rule's relations are saved."""
    from approvals import rule_versions

    before = rule_versions.current_version()
    client.force_login(admin_user)
    category = Category.objects.get(slug="hardware")
    response = client.post(ADD, rule_data(name="Versioned by the admin", categories=[category.pk]))
    assert response.status_code == 302
    version = rule_versions.latest_version()
    assert version.number == before.number + 1
    assert version.created_by == admin_user
    rule = ApprovalRule.objects.get(name="Versioned by the admin")
    assert next(r for r in version.rules if r["id"] == rule.pk)["category_ids"] == [category.pk]
    assert version.changes[0].startswith("New rule “Versioned by the admin”")
