from django.contrib import admin

from .models import Vendor


@admin.register(Vendor)
class VendorAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "risk_tier", "country", "website"]
    list_filter = ["status", "risk_tier"]
    search_fields = ["name", "legal_name"]
    readonly_fields = ["status"]
