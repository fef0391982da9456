from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from accounts import roles
from core.admin import ReadOnlyAdmin

from . import rule_versions, services
from .forms import RuleAdminForm
from .models import ApprovalRule, ApprovalStep, GroupAssignment, ProcessSettings, RuleKind


@admin.register(ApprovalRule)
class ApprovalRuleAdmin(admin.ModelAdmin):
    form = RuleAdminForm
    # Four columns that fit a laptop's width: the step a rule adds in words, not four codes.
    list_display = ["name", "active", "adds", "preview_link"]
    list_filter = ["active", "kind", "side", "stage"]
    list_select_related = ["reviewer_group", "reviewer_user"]
    search_fields = ["name"]
    filter_horizontal = ["departments"]
    autocomplete_fields = ["reviewer_user", "escalation_user"]
    readonly_fields = ["preview_link"]
    fieldsets = [
        (None, {"fields": ["name", "active", "kind", "preview_link"]}),
        (
            "Conditions (all set conditions must hold)",
            {
                "fields": [
                    ("min_total", "max_total"),
                    "categories",
                    "data_classifications",
                    "personal_data",
                    "vendor_statuses",
                    "vendor_risk_tiers",
                    "departments",
                    "over_budget",
                ]
            },
        ),
        (
            "Step it adds",
            {
                "fields": [
                    ("reviewer_group", "reviewer_user"),
                    ("side", "stage"),
                    ("sla_hours", "repeat_every_hours", "escalate_after_hours"),
                    ("escalation_group", "escalation_user"),
                ]
            },
        ),
    ]

    @admin.display(description="What it does", ordering="stage")
    def adds(self, rule):
        """ "IT review decides (IT side, stage 1)", or "Approves at once when it matches"."""
        if rule.kind == RuleKind.AUTO_APPROVE:
            return rule.get_kind_display()
        group = rule.reviewer_group
        who = roles.group_label(group.name) if group else rule.reviewer_user
        side = f"{rule.get_side_display()} side, " if rule.side else ""
        every = "On every routed request: " if rule.kind == RuleKind.BASELINE else ""
        return f"{every}{who} decides ({side}stage {rule.stage})"

    @admin.display(description="Rule preview")
    def preview_link(self, rule):
        """The rule preview, filled in with a request this rule's conditions match."""
        if rule is None or rule.pk is None:
            return "Save the rule first, then preview which steps a matching request gets."
        url = reverse("approvals:rule-preview") + f"?rule={rule.pk}"
        return format_html('<a href="{}">Preview a request this rule matches</a>', url)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.record_rule_change(obj, by=request.user, created=not change)

    def save_related(self, request, form, formsets, change):
        """The version is recorded once the rule's categories and departments are saved too."""
        super().save_related(request, form, formsets, change)
        verb = "changed" if change else "added"
        rule_versions.record_version(
            by=request.user, reason=f"Rule “{form.instance.name}” {verb} in the admin"
        )

    def delete_model(self, request, obj):
        services.delete_rule(obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for rule in queryset:
            services.delete_rule(rule, by=request.user)


@admin.register(ApprovalStep)
class ApprovalStepAdmin(ReadOnlyAdmin):
    """Read-only: steps change only through decisions."""

    list_display = ["request", "round", "stage", "side", "reviewer_label", "state", "due_at"]
    list_filter = ["state", "side"]
    list_select_related = ["request", "group", "user"]


@admin.register(ProcessSettings)
class ProcessSettingsAdmin(admin.ModelAdmin):
    """One row: the work after approval and the carry-over of approvals on resubmit."""

    fieldsets = [
        (
            "After approval: procurement places the order",
            {
                "fields": [
                    ("order_sla_hours", "order_repeat_every_hours"),
                    ("order_escalate_after_hours", "order_escalation_group"),
                ]
            },
        ),
        (
            "After the order: the requester confirms receipt",
            {"fields": [("receipt_sla_hours", "receipt_repeat_every_hours")]},
        ),
        (
            "Resubmit after changes",
            {"fields": ["carry_over_approvals", "cost_tolerance_percent"]},
        ),
    ]

    def has_add_permission(self, request):
        return not ProcessSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.record_settings_change(obj, by=request.user, changed=form.changed_data)


@admin.register(GroupAssignment)
class GroupAssignmentAdmin(admin.ModelAdmin):
    """Per reviewer group: are new steps assigned automatically when their stage opens, and
    how (approvals.assignment)."""

    list_display = ["group", "mode", "last_assigned"]
    list_select_related = ["group", "last_assigned"]
    readonly_fields = ["last_assigned"]
