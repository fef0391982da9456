from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .models import Delegation, Department, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = [
        *DjangoUserAdmin.fieldsets,
        ("Organisation", {"fields": ("department", "manager", "time_zone")}),
    ]
    list_display = ["username", "email", "first_name", "last_name", "department", "is_staff"]
    list_filter = [*DjangoUserAdmin.list_filter, "department"]
    list_select_related = ["department"]
    search_fields = ["username", "first_name", "last_name", "email"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "cost_centre"]
    search_fields = ["name", "cost_centre"]


@admin.register(Delegation)
class DelegationAdmin(admin.ModelAdmin):
    list_display = ["delegator", "delegate", "starts_at", "ends_at"]
    list_select_related = ["delegator", "delegate"]
    autocomplete_fields = ["delegator", "delegate"]
