import django_filters

from approvals.selectors import steps_awaiting

from ..models import PurchaseRequest, State


class PurchaseRequestFilter(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(choices=State.choices)
    category = django_filters.CharFilter(field_name="category__slug")
    mine = django_filters.BooleanFilter(method="filter_mine", label="Only my own requests")
    awaiting = django_filters.ChoiceFilter(
        choices=[("me", "me")],
        method="filter_awaiting",
        label="awaiting=me: requests with an open step the caller may decide",
    )

    class Meta:
        model = PurchaseRequest
        fields = ["state", "category", "vendor", "mine", "awaiting"]

    def filter_mine(self, queryset, name, value):
        if value is None:
            return queryset
        user = self.request.user
        return queryset.filter(requester=user) if value else queryset.exclude(requester=user)

    def filter_awaiting(self, queryset, name, value):
        steps = steps_awaiting(self.request.user).values("request_id")
        return queryset.filter(pk__in=steps)
