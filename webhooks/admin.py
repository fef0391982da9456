from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.utils.html import format_html

from core.admin import ReadOnlyAdmin

from . import net, services
from .models import EVENT_TYPES, WebhookAttempt, WebhookDelivery, WebhookEndpoint


class EndpointForm(forms.ModelForm):
    url = forms.URLField(label="URL", max_length=500, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        choices=EVENT_TYPES, widget=forms.CheckboxSelectMultiple, required=False
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description", "event_types", "active"]

    def clean_url(self):
        url = self.cleaned_data["url"]
        try:
            net.resolve(url)
        except net.UnsafeURL as refusal:
            raise forms.ValidationError(str(refusal)) from refusal
        return url


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    """Endpoints of outbound webhooks. The secret is made by Tandem; give it to the receiver."""

    form = EndpointForm
    list_display = ["url", "description", "active", "disabled_reason", "created_at"]
    list_filter = ["active"]
    readonly_fields = ["secret", "disabled_reason", "created_at"]

    def save_model(self, request, obj, form, change):
        if obj.active:
            obj.disabled_reason = ""
        super().save_model(request, obj, form, change)


class AttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = ["attempted_at", "status_code", "error", "response_excerpt", "duration_ms"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    """The delivery log: every message to every endpoint, its attempts, and replay."""

    list_display = [
        "created_at",
        "event_type",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
    ]
    list_filter = ["status", "message__event_type", "endpoint"]
    list_select_related = ["endpoint", "message"]
    readonly_fields = [
        "endpoint",
        "webhook_id",
        "event_type",
        "body",
        "status",
        "attempts",
        "next_attempt_at",
        "delivered_at",
        "last_status_code",
        "last_error",
        "created_at",
    ]
    exclude = ["message", "claimed_at"]
    inlines = [AttemptInline]
    actions = ["replay_selected"]

    @admin.display(description="event")
    def event_type(self, delivery):
        return delivery.message.event_type

    @admin.display(description="webhook-id")
    def webhook_id(self, delivery):
        return delivery.message.msg_id

    @admin.display(description="body")
    def body(self, delivery):
        return format_html("<pre>{}</pre>", delivery.message.body)

    @admin.action(description="Replay the selected deliveries (same webhook-id)")
    def replay_selected(self, request, queryset):
        with transaction.atomic():
            replayed = sum(services.replay(delivery) for delivery in queryset)
        skipped = queryset.count() - replayed
        self.message_user(request, f"{replayed} delivery(ies) queued again.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                f"{skipped} not replayed: being sent right now, or the endpoint is disabled.",
                messages.WARNING,
            )
