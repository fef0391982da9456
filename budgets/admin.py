from django.conf import settings
from django.contrib import admin

from core import formats
from core.admin import ReadOnlyAdmin

from . import selectors, services
from .models import Budget, Renewal


@admin.register(Budget)
class BudgetAdmin(admin.ModelAdmin):
    """Budgets with their figures (one query for the list). A year's budgets can also be
    imported from a CSV file (the link above the list)."""

    list_display = [
        "department",
        "category",
        "fiscal_year",
        "budget",
        "committed_figure",
        "in_flight_figure",
        "available_figure",
        "owner",
        "overrun_action",
    ]
    list_filter = ["fiscal_year", "overrun_action", "department"]
    list_select_related = ["department", "category", "owner"]
    search_fields = ["department__name", "department__cost_centre", "category__name"]
    autocomplete_fields = ["owner"]

    def get_queryset(self, request):
        return selectors.with_figures(super().get_queryset(request))

    def save_model(self, request, obj, form, change):
        services.save_budget(obj, by=request.user, created=not change)

    @staticmethod
    def _money(value):
        return formats.money(value, settings.TANDEM_BASE_CURRENCY)

    @admin.display(description="budget", ordering="amount")
    def budget(self, budget):
        return self._money(budget.amount)

    @admin.display(description="committed", ordering="committed")
    def committed_figure(self, budget):
        return self._money(budget.committed)

    @admin.display(description="in flight", ordering="in_flight")
    def in_flight_figure(self, budget):
        return self._money(budget.in_flight)

    @admin.display(description="available", ordering="available")
    def available_figure(self, budget):
        return self._money(budget.available)


@admin.register(Renewal)
class RenewalAdmin(ReadOnlyAdmin):
    list_display = ["contract", "term_ends_on", "request", "created_at", "escalated_at"]
    list_select_related = ["contract__vendor", "request"]
