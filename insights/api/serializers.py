"""The shape of /api/metrics/: the dashboard's figures (insights.selectors.Figures). Durations
are in hours, rates are fractions between 0 and 1 (null when nothing was counted), amounts are
in the base currency."""

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from vendors.models import Certificate, Contract

from ..templatetags.insights_format import hours


@extend_schema_field(OpenApiTypes.DOUBLE)
class HoursField(serializers.Field):
    """A duration as hours, two decimals; null when there is none."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return None if value is None else round(hours(value), 2)


@extend_schema_field(OpenApiTypes.DOUBLE)
class RateField(serializers.Field):
    """A fraction between 0 and 1, four decimals; null when its denominator is zero."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return None if value is None else round(value, 4)


def money(**kwargs):
    return serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True, **kwargs)


class FiltersSerializer(serializers.Serializer):
    def get_fields(self):
        # `from` is a Python keyword: the fields are declared here, named as the parameters.
        return {
            "from": serializers.DateField(source="date_from", allow_null=True),
            "to": serializers.DateField(source="date_to", allow_null=True),
            "department": serializers.IntegerField(source="department_id", allow_null=True),
        }


class ScopeSerializer(serializers.Serializer):
    all_sides = serializers.BooleanField(source="everything")
    sides = serializers.ListField(child=serializers.CharField(), source="side_values")


class CycleTimeSerializer(serializers.Serializer):
    decided = serializers.IntegerField(source="count")
    median_hours = HoursField(source="median")
    p90_hours = HoursField(source="p90")


class DecisionsSerializer(serializers.Serializer):
    decided = serializers.IntegerField()
    approved = serializers.IntegerField()
    rejected = serializers.IntegerField()
    sent_back = serializers.IntegerField(help_text="Decided requests sent back at least once.")
    approval_rate = RateField()
    rejection_rate = RateField()
    change_request_rate = RateField()


class OpenValueSerializer(serializers.Serializer):
    requests = serializers.IntegerField(source="count")
    total = money()


class SideSerializer(serializers.Serializer):
    side = serializers.CharField()
    label = serializers.CharField()
    decided = serializers.IntegerField()
    average_hours = HoursField(source="average_time")
    total_hours = HoursField(source="total_time")
    opened = serializers.IntegerField()
    breached = serializers.IntegerField()
    breach_rate = RateField()


class SlaSerializer(serializers.Serializer):
    opened = serializers.IntegerField()
    breached = serializers.IntegerField()
    rate = RateField()


class SpendSeriesSerializer(serializers.Serializer):
    label = serializers.CharField()
    values = serializers.ListField(child=money())
    total = money()


class SpendSerializer(serializers.Serializer):
    months = serializers.ListField(child=serializers.DateField())
    series = SpendSeriesSerializer(many=True)
    totals = serializers.ListField(child=money())
    total = money()


class SpendByDimensionSerializer(serializers.Serializer):
    category = SpendSerializer(source="spend.category")
    vendor = SpendSerializer(source="spend.vendor")
    department = SpendSerializer(source="spend.department")


class ContractEndingSerializer(serializers.ModelSerializer):
    vendor = serializers.CharField(source="vendor.name")
    notice_date = serializers.DateField()

    class Meta:
        model = Contract
        fields = [
            "id",
            "title",
            "vendor",
            "ends_on",
            "notice_date",
            "auto_renew",
            "annual_value",
            "currency",
        ]


class CertificateExpiringSerializer(serializers.ModelSerializer):
    vendor = serializers.CharField(source="vendor.name")

    class Meta:
        model = Certificate
        fields = ["id", "vendor", "kind", "issuer", "expires_on"]


class RenewalsSerializer(serializers.Serializer):
    count = serializers.IntegerField(source="renewals_count")
    items = ContractEndingSerializer(source="renewals", many=True)


class CertificateExpiriesSerializer(serializers.Serializer):
    count = serializers.IntegerField(source="certificates_count")
    items = CertificateExpiringSerializer(source="certificates", many=True)


class MetricsSerializer(serializers.Serializer):
    filters = FiltersSerializer()
    scope = ScopeSerializer()
    base_currency = serializers.SerializerMethodField()
    generated_at = serializers.DateTimeField()
    cycle_time = CycleTimeSerializer()
    decisions = DecisionsSerializer()
    open_value = OpenValueSerializer()
    sides = SideSerializer(many=True)
    sla_breaches = SlaSerializer(source="sla")
    spend_per_month = SpendByDimensionSerializer(source="*")
    lookahead_days = serializers.IntegerField()
    renewals = RenewalsSerializer(source="*")
    certificate_expiries = CertificateExpiriesSerializer(source="*")

    @extend_schema_field(OpenApiTypes.STR)
    def get_base_currency(self, figures) -> str:
        return settings.TANDEM_BASE_CURRENCY
