"""Reads shared by the vendor pages and API, O(1) in queries whatever the number of vendors."""

from datetime import timedelta

from django.db.models import Avg, Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from .models import EXPIRY_WARNING_DAYS, Certificate, Contract, Vendor


def expiring_certificates(today=None) -> QuerySet[Certificate]:
    today = today or timezone.localdate()
    return Certificate.objects.filter(
        expires_on__gte=today, expires_on__lte=today + timedelta(days=EXPIRY_WARNING_DAYS)
    )


def vendors_with_figures() -> QuerySet[Vendor]:
    """Vendors with what the list shows: certificates expiring soon, active contracts, ratings."""
    today = timezone.localdate()
    return Vendor.objects.annotate(
        has_expiring_certificate=Exists(expiring_certificates(today).filter(vendor=OuterRef("pk"))),
        active_contracts=Count(
            "contracts",
            filter=Q(contracts__starts_on__lte=today, contracts__ends_on__gte=today),
            distinct=True,
        ),
        rating_count=Count("ratings", distinct=True),
        average_delivery=Avg("ratings__delivery"),
        average_quality=Avg("ratings__quality"),
        average_support=Avg("ratings__support"),
    ).order_by("name")


def vendor_for_page(pk) -> Vendor:
    return (
        vendors_with_figures()
        .prefetch_related("certificates", "contracts__owner", "contracts__requests")
        .get(pk=pk)
    )


def active_contracts(vendor_id) -> QuerySet[Contract]:
    today = timezone.localdate()
    return Contract.objects.filter(vendor_id=vendor_id, starts_on__lte=today, ends_on__gte=today)
