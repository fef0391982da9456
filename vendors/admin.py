from django.contrib import admin

from .models import (
    AnswerOption,
    Certificate,
    Contract,
    RiskBand,
    SecurityQuestion,
    Vendor,
    VendorRating,
)


class CertificateInline(admin.TabularInline):
    model = Certificate
    extra = 0
    fields = ["kind", "issuer", "issued_on", "expires_on", "document_name"]
    readonly_fields = ["document_name"]


@admin.register(Vendor)
class VendorAdmin(admin.ModelAdmin):
    """Vendor records; the status changes only through the joint review in the app."""

    list_display = ["name", "status", "risk_tier", "risk_score", "country", "website"]
    list_filter = ["status", "risk_tier", "data_access_level"]
    search_fields = ["name", "legal_name"]
    readonly_fields = ["status", "risk_score"]
    inlines = [CertificateInline]


class AnswerOptionInline(admin.TabularInline):
    model = AnswerOption
    extra = 2


@admin.register(SecurityQuestion)
class SecurityQuestionAdmin(admin.ModelAdmin):
    list_display = ["text", "weight", "position", "active"]
    list_editable = ["weight", "position", "active"]
    inlines = [AnswerOptionInline]


@admin.register(RiskBand)
class RiskBandAdmin(admin.ModelAdmin):
    list_display = ["tier", "min_score"]


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "vendor",
        "starts_on",
        "ends_on",
        "auto_renew",
        "annual_value",
        "owner",
    ]
    list_filter = ["auto_renew"]
    list_select_related = ["vendor", "owner"]
    search_fields = ["title", "vendor__name"]
    filter_horizontal = ["requests"]


@admin.register(VendorRating)
class VendorRatingAdmin(admin.ModelAdmin):
    list_display = ["vendor", "request", "rater", "delivery", "quality", "support", "created_at"]
    list_select_related = ["vendor", "request", "rater"]
