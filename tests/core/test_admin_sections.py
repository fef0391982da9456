"""The admin's index in sections of what an admin configures (issue #29 item 10), and a rule
list whose columns say what each rule does."""

import re

import pytest
from django.contrib import admin

from accounts import roles
from approvals.models import ApprovalRule
from core.admin_site import OTHER, SECTIONS

pytestmark = pytest.mark.django_db


def headings(page: str) -> list[str]:
    return re.findall(r'<caption>\s*<span class="section">([^<]+)</span>', page)


def test_the_index_lists_sections_of_what_an_admin_configures(client, admin_user):
    client.force_login(admin_user)
    page = client.get("/admin/").content.decode()
    assert headings(page) == [
        "People", "Rules", "Vendors", "Budgets", "Calendars", "Integrations", "Operations",
    ]  # fmt: skip
    for code in ("Axes", "AXES", "Auth token", "Authentication and Authorization", "Mfa"):
        assert f">{code}<" not in page
    assert ">Routing rules</a>" in page
    assert ">API tokens</a>" in page


def test_every_registered_model_has_its_place_in_a_section():
    placed = {(app, model) for entries in SECTIONS.values() for app, model, _ in entries}
    registered = {(m._meta.app_label, m._meta.model_name) for m in admin.site._registry}
    assert registered - placed == set(), f"place these in core.admin_site.SECTIONS, not {OTHER}"


def test_an_apps_own_page_still_lists_its_models(client, admin_user):
    client.force_login(admin_user)
    page = client.get("/admin/approvals/").content.decode()
    assert ">Approval rules</a>" in page


def test_the_rule_list_says_what_each_rule_does_in_four_columns(client, admin_user):
    client.force_login(admin_user)
    page = client.get("/admin/approvals/approvalrule/").content.decode()
    columns = re.findall(r'<th scope="col" class="(?:sortable )?column-(\w+)', page)
    assert columns == ["name", "active", "adds", "preview_link"]
    rule = ApprovalRule.objects.get(name="Default IT review")
    label = roles.group_label(rule.reviewer_group.name)
    assert f"On every routed request: {label} decides (IT side, stage 1)" in page
    assert "it_reviewers" not in page
