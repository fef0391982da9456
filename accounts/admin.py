from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils import timezone

from core.validation import time_zone_choices

from . import services, tokens
from .models import (
    ApiToken,
    ClaimMapping,
    Delegation,
    Department,
    ProviderGroup,
    Scope,
    User,
)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = [
        *DjangoUserAdmin.fieldsets,
        ("Organisation", {"fields": ("department", "manager", "time_zone")}),
        ("Service account", {"fields": ("is_service_account",)}),
        (
            "Identity provider",
            {"fields": ("external_id", "provisioned_at", "may_set_local_password")},
        ),
    ]
    list_display = ["username", "email", "first_name", "last_name", "department", "is_staff"]
    list_filter = [*DjangoUserAdmin.list_filter, "is_service_account", "department"]
    readonly_fields = ["provisioned_at"]

    actions = ["deactivate_selected"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        # The zones are validated, not stored as choices (a tzdata update changes no schema):
        # the admin still picks one from the list.
        if db_field.name == "time_zone":
            choices = [("", "The time zone of the person's team"), *time_zone_choices()]
            return forms.ChoiceField(choices=choices, required=False, label="Time zone")
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        # A service account signs in only with API tokens, never with a password.
        if obj.is_service_account:
            obj.set_unusable_password()
        super().save_model(request, obj, form, change)
        # Unticking "Active" is leaving: sessions, tokens and delegations end with it.
        if change and "is_active" in form.changed_data and not obj.is_active:
            services.deactivate_user(obj)
            self.message_user(
                request,
                f"{obj} can no longer sign in; their sessions, API tokens and delegations ended.",
                messages.SUCCESS,
            )

    @admin.action(description="Deactivate the selected people (they leave)")
    def deactivate_selected(self, request, queryset):
        people = list(queryset.exclude(pk=request.user.pk))
        for person in people:
            services.deactivate_user(person)
        self.message_user(
            request,
            f"{len(people)} can no longer sign in; their sessions, API tokens and delegations "
            "ended.",
            messages.SUCCESS,
        )

    list_select_related = ["department"]
    search_fields = ["username", "first_name", "last_name", "email"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "cost_centre"]
    search_fields = ["name", "cost_centre"]


@admin.register(ClaimMapping)
class ClaimMappingAdmin(admin.ModelAdmin):
    """Which of the identity provider's groups give which Tandem role or department; applied
    at each sign-in through the provider (docs/administer/sso.md)."""

    list_display = ["claim", "value", "group", "department"]
    list_filter = ["claim", "group", "department"]
    list_select_related = ["group", "department"]
    search_fields = ["value"]


@admin.register(ProviderGroup)
class ProviderGroupAdmin(admin.ModelAdmin):
    """The identity provider's groups as it pushes them by SCIM (read here; the provider owns
    them). Their members get roles by the claim mappings."""

    list_display = ["display_name", "external_id", "updated_at"]
    search_fields = ["display_name", "external_id"]
    readonly_fields = ["display_name", "external_id", "members", "created_at", "updated_at"]

    def has_add_permission(self, request):
        return False


@admin.register(Delegation)
class DelegationAdmin(admin.ModelAdmin):
    list_display = ["delegator", "delegate", "starts_at", "ends_at"]
    list_select_related = ["delegator", "delegate"]
    autocomplete_fields = ["delegator", "delegate"]


class ApiTokenForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(choices=Scope.choices, widget=forms.CheckboxSelectMultiple)
    expires_at = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="At most a year ahead.",
    )

    class Meta:
        model = ApiToken
        fields = ["user", "name", "scopes", "expires_at"]

    def clean(self):
        cleaned = super().clean()
        user, scopes = cleaned.get("user"), cleaned.get("scopes") or []
        if user is not None and (problem := tokens.scim_scope_problem(user, scopes)):
            self.add_error("scopes", problem)
        return cleaned

    def clean_expires_at(self):
        value = self.cleaned_data["expires_at"]
        now = timezone.now()
        if value <= now:
            raise forms.ValidationError("The expiry must be in the future.")
        if value > now + tokens.LONGEST_LIFETIME:
            raise forms.ValidationError("A token lives at most one year.")
        return value


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens of people and service accounts. Only the SHA-256 is kept: the token is shown once,
    when it is made. Tokens are revoked, never edited."""

    form = ApiTokenForm
    list_display = ["name", "user", "prefix", "scopes", "expires_at", "revoked_at", "last_used_at"]
    list_filter = ["user__is_service_account"]
    list_select_related = ["user"]
    search_fields = ["name", "prefix", "user__username"]
    autocomplete_fields = ["user"]
    actions = ["revoke_selected"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["user", "name", "prefix", "scopes", "created_at", "expires_at", "revoked_at"]

    def save_model(self, request, obj, form, change):
        if change:
            return
        row, token = tokens.create_token(
            obj.user, name=obj.name, scopes=obj.scopes, expires_at=obj.expires_at
        )
        obj.pk, obj._state.adding = row.pk, False
        self.message_user(
            request,
            f"The token for {row.user}: {token} — copy it now, it is not shown again.",
            messages.WARNING,
        )

    @admin.action(description="Revoke the selected tokens now")
    def revoke_selected(self, request, queryset):
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"{count} token(s) revoked.", messages.SUCCESS)

    def has_delete_permission(self, request, obj=None):
        return False
