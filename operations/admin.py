from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from core.admin import ReadOnlyAdmin

from .models import Alert


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    """Alerts are raised by the system, never edited: the operations page acts on them."""

    list_display = ["raised_at", "kind", "summary", "resolved_at", "operations_page"]
    list_filter = ["kind", ("resolved_at", admin.EmptyFieldListFilter)]
    search_fields = ["summary"]
    date_hierarchy = "raised_at"

    @admin.display(description="Act on it")
    def operations_page(self, obj):
        return format_html('<a href="{}">Operations page</a>', reverse("operations:overview"))
