from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import Category, ExchangeRate, PurchaseRequest


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "is_catalog", "active"]
    list_filter = ["is_catalog", "active"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    list_display = ["currency", "rate_to_base", "updated_at"]


@admin.register(PurchaseRequest)
class PurchaseRequestAdmin(ReadOnlyAdmin):
    """For looking up requests; they change only through their lifecycle in the app."""

    list_display = ["number", "title", "requester", "state", "total_cost", "currency", "created_at"]
    list_filter = ["state", "category"]
    search_fields = ["number", "title"]
    list_select_related = ["requester"]
