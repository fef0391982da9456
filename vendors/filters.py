import django_filters

from .models import RiskTier, Vendor, VendorStatus


class VendorFilter(django_filters.FilterSet):
    """Shared by the vendor list page and /api/vendors/."""

    status = django_filters.MultipleChoiceFilter(choices=VendorStatus.choices)
    risk_tier = django_filters.MultipleChoiceFilter(choices=RiskTier.choices)
    certificates_expiring = django_filters.BooleanFilter(
        field_name="has_expiring_certificate", label="Certificates expiring within 30 days"
    )
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Vendor
        fields = ["status", "risk_tier", "certificates_expiring", "name"]
