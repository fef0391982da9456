from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import InboundMessage, SlackMessage


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdmin):
    """The e-mail replies received, and what each one decided or why not."""

    list_display = ["received_at", "sender", "outcome"]
    search_fields = ["sender", "message_key"]
    date_hierarchy = "received_at"


@admin.register(SlackMessage)
class SlackMessageAdmin(ReadOnlyAdmin):
    list_display = ["posted_at", "user", "step", "settled_note"]
    list_select_related = ["user", "step"]
