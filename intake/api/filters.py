import django_filters

from ..models import PurchaseRequest, State


class PurchaseRequestFilter(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(choices=State.choices)
    category = django_filters.CharFilter(field_name="category__slug")
    mine = django_filters.BooleanFilter(method="filter_mine", label="Only my own requests")

    class Meta:
        model = PurchaseRequest
        fields = ["state", "category", "vendor", "mine"]

    def filter_mine(self, queryset, name, value):
        if value is None:
            return queryset
        user = self.request.user
        return queryset.filter(requester=user) if value else queryset.exclude(requester=user)
