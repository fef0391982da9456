from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import AuditCheckpoint, AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Read-only: the audit trail is evidence and nobody edits it."""

    list_display = [
        "sequence",
        "occurred_at",
        "kind",
        "actor",
        "on_behalf_of",
        "subject_label",
        "to_state",
    ]
    list_filter = ["kind", "content_type"]
    list_select_related = ["actor", "on_behalf_of", "content_type"]
    date_hierarchy = "occurred_at"

    @admin.display(description="object")
    def subject_label(self, event):
        return f"{event.content_type.model} #{event.object_id}"


@admin.register(AuditCheckpoint)
class AuditCheckpointAdmin(ReadOnlyAdmin):
    """Read-only: signed daily statements of the chain's head (made by the scheduled task)."""

    list_display = ["day", "sequence", "head_hash", "key_id", "signed_at"]
    date_hierarchy = "day"
