"""The filters of "My requests": state, a free-text search and the order of the list."""

import django_filters
from django import forms
from django.db.models import F, Q

from .models import State

SORTS = {
    "newest": ("Newest first", ["-created_at", "-id"]),
    "oldest": ("Oldest first", ["created_at", "id"]),
    "updated": ("Recently updated", ["-updated_at", "-id"]),
    "cost_high": ("Highest cost", [F("total_cost_base").desc(nulls_last=True), "-id"]),
    "cost_low": ("Lowest cost", [F("total_cost_base").asc(nulls_last=True), "id"]),
    "needed_by": ("Needed soonest", [F("needed_by").asc(nulls_last=True), "id"]),
    "title": ("Title A–Z", ["title", "id"]),
}


class MyRequestsFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label="Search",
        method="search",
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Number, title or vendor", "maxlength": 100}
        ),
    )
    state = django_filters.ChoiceFilter(
        label="State", choices=State.choices, empty_label="Any state"
    )
    sort = django_filters.ChoiceFilter(
        label="Sort by",
        choices=[(key, label) for key, (label, _) in SORTS.items()],
        empty_label=None,
        method="sort_by",
    )

    def search(self, queryset, name, value):
        value = value.strip()[:100]
        if not value:
            return queryset
        return queryset.filter(
            Q(number__icontains=value)
            | Q(title__icontains=value)
            | Q(vendor__name__icontains=value)
            | Q(proposed_vendor_name__icontains=value)
        )

    def sort_by(self, queryset, name, value):
        return queryset.order_by(*SORTS.get(value, SORTS["newest"])[1])

    @property
    def is_filtered(self) -> bool:
        data = self.form.cleaned_data if self.form.is_valid() else {}
        return bool(data.get("q") or data.get("state"))
