from django.contrib import admin

from core.admin import ReadOnlyAdmin

from . import services
from .models import ApprovalRule, ApprovalStep


@admin.register(ApprovalRule)
class ApprovalRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "active", "kind", "side", "stage", "reviewer_group", "reviewer_user"]
    list_filter = ["active", "kind", "side", "stage"]
    list_select_related = ["reviewer_group", "reviewer_user"]
    search_fields = ["name"]
    filter_horizontal = ["categories", "departments"]
    autocomplete_fields = ["reviewer_user", "escalation_user"]
    fieldsets = [
        (None, {"fields": ["name", "active", "kind"]}),
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

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.record_rule_change(obj, by=request.user, created=not change)

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
