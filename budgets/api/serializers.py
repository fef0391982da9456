from django.conf import settings
from rest_framework import serializers

from .. import selectors
from ..models import Budget, Renewal

MONEY = {"max_digits": 14, "decimal_places": 2, "read_only": True}


class BudgetSerializer(serializers.ModelSerializer):
    department = serializers.CharField(source="department.name", read_only=True)
    cost_centre = serializers.CharField(source="department.cost_centre", read_only=True)
    category = serializers.CharField(source="category.name", read_only=True, allow_null=True)
    fiscal_year_label = serializers.CharField(read_only=True)
    owner = serializers.CharField(source="owner.get_full_name", read_only=True)
    currency = serializers.SerializerMethodField()
    committed = serializers.DecimalField(**MONEY)
    in_flight = serializers.DecimalField(**MONEY)
    available = serializers.DecimalField(**MONEY)
    overrun_action_label = serializers.CharField(
        source="get_overrun_action_display", read_only=True
    )

    class Meta:
        model = Budget
        fields = [
            "id", "department", "cost_centre", "category", "fiscal_year", "fiscal_year_label",
            "amount", "currency", "committed", "in_flight", "available", "owner",
            "overrun_action", "overrun_action_label",
        ]  # fmt: skip

    def get_currency(self, budget) -> str:
        return settings.TANDEM_BASE_CURRENCY


class RenewalSerializer(serializers.ModelSerializer):
    contract = serializers.CharField(source="contract.title", read_only=True)
    vendor = serializers.CharField(source="contract.vendor.name", read_only=True)
    owner = serializers.CharField(source="contract.owner.get_full_name", read_only=True)
    ends_on = serializers.DateField(source="contract.ends_on", read_only=True)
    notice_deadline = serializers.SerializerMethodField()
    request_id = serializers.IntegerField(source="request.pk", read_only=True, allow_null=True)
    request_number = serializers.CharField(source="request.number", read_only=True, allow_null=True)
    request_state = serializers.CharField(source="request.state", read_only=True, allow_null=True)
    status = serializers.SerializerMethodField()
    deadline_missed = serializers.SerializerMethodField()

    class Meta:
        model = Renewal
        fields = [
            "id", "contract", "vendor", "owner", "ends_on", "notice_deadline", "request_id",
            "request_number", "request_state", "status", "deadline_missed", "escalated_at",
        ]  # fmt: skip

    def get_notice_deadline(self, renewal) -> str:
        return renewal.contract.notice_date.isoformat()

    def get_status(self, renewal) -> str:
        return selectors.renewal_status(renewal)

    def get_deadline_missed(self, renewal) -> bool:
        return selectors.deadline_missed(renewal)
