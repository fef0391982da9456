import django_filters
from django import forms

from approvals.selectors import steps_awaiting, steps_held_by

from ..models import Category, PurchaseRequest, State


class CategoryField(forms.Field):
    """A category by the id the request body uses (`"category": 3`), or by its slug; an unknown
    one is a 400 naming the field, never an empty list."""

    def to_python(self, value):
        value = (value or "").strip()
        if not value:
            return None
        lookup = {"pk": int(value)} if value.isdigit() and len(value) < 19 else {"slug": value}
        category = Category.objects.filter(**lookup).first()
        if category is None:
            raise forms.ValidationError(
                f"No category {value!r}: use a category id from /api/categories/."
            )
        return category


class CategoryFilter(django_filters.Filter):
    field_class = CategoryField


class PurchaseRequestFilter(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(choices=State.choices)
    category = CategoryFilter(
        field_name="category",
        help_text="A category id, as in the request body (or its slug); see /api/categories/.",
    )
    mine = django_filters.BooleanFilter(method="filter_mine", label="Only my own requests")
    awaiting = django_filters.ChoiceFilter(
        choices=[("me", "me")],
        method="filter_awaiting",
        label="awaiting=me: requests with an open step the caller may decide",
    )

    held = django_filters.ChoiceFilter(
        choices=[("me", "me")],
        method="filter_held",
        label="held=me: requests with an open step the caller took or was handed (theirs first)",
    )

    class Meta:
        model = PurchaseRequest
        fields = ["state", "category", "vendor", "mine", "awaiting", "held"]

    def filter_mine(self, queryset, name, value):
        if value is None:
            return queryset
        user = self.request.user
        return queryset.filter(requester=user) if value else queryset.exclude(requester=user)

    def filter_awaiting(self, queryset, name, value):
        steps = steps_awaiting(self.request.user).values("request_id")
        return queryset.filter(pk__in=steps)

    def filter_held(self, queryset, name, value):
        return queryset.filter(pk__in=steps_held_by(self.request.user).values("request_id"))
