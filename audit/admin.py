from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Read-only: the audit trail is evidence and nobody edits it."""

    list_display = ["occurred_at", "kind", "actor", "on_behalf_of", "subject_label", "to_state"]
    list_filter = ["kind", "content_type"]
    list_select_related = ["actor", "on_behalf_of", "content_type"]
    date_hierarchy = "occurred_at"

    @admin.display(description="object")
    def subject_label(self, event):
        return f"{event.content_type.model} #{event.object_id}"
