"""Reads shared by the vendor pages and API, O(1) in queries whatever the number of vendors."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db.models import Avg, Case, Count, Exists, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone

from accounts.roles import ADMINS, ALL_GROUPS

from .models import (
    APPROVED_STATUSES,
    EXPIRY_WARNING_DAYS,
    Certificate,
    Contract,
    Vendor,
    VendorRating,
    VendorStatus,
)


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


# A request may not name a vendor whose joint review said no, nor one the company has left.
NOT_TO_BE_NAMED = (VendorStatus.REJECTED, VendorStatus.OFFBOARDED)


def vendors_to_request_from() -> QuerySet[Vendor]:
    """The vendors a requester may name on a request: every one but the rejected and the
    offboarded (a request naming one not approved yet waits for its review)."""
    return Vendor.objects.exclude(status__in=NOT_TO_BE_NAMED)


def why_a_request_cannot_name(vendor: Vendor | None) -> str | None:
    """Why a request may not name `vendor`, in the words every path shows (None: it may). The
    rule of `vendors_to_request_from`, asked by the request form, the API and submit."""
    if vendor is None or vendor.status not in NOT_TO_BE_NAMED:
        return None
    return (
        f"{vendor.name} is {vendor.get_status_display().lower()}: a request cannot name it. "
        "Choose another vendor or propose a new one."
    )


# The refusal of a request a contract may not name (the contract form's and the API's choices,
# intake.selectors.requests_a_contract_may_name), with the place of the request's id.
NOT_A_REQUEST_TO_NAME = "Request {} is not one of this vendor's requests you can see."


def contract_owners():
    """People who may own a contract: reviewers, leaders, finance and admins who still sign in."""
    return (
        get_user_model()
        .objects.filter(Q(groups__name__in=ALL_GROUPS) | ADMINS, is_active=True)
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


def why_cannot_own_contracts(person) -> str | None:
    """Why `person` may not own a contract, in the words every path shows (None: they may).
    The rule of `contract_owners`, asked by the contract form, the API and `add_contract`."""
    if contract_owners().filter(pk=person.pk).exists():
        return None
    if not person.is_active:
        return f"{person} no longer uses Tandem: choose another owner."
    return (
        f"{person} cannot own a contract: choose someone from IT, procurement or finance, "
        "a leader or an admin."
    )


def search_vendors_to_request_from(query: str, limit: int = 8) -> list[Vendor]:
    """The request form's vendor picker: names (or legal names) containing `query`, those
    that start with it first, approved before the others. One query."""
    # PostgreSQL refuses NUL characters in a query; nobody types them in a name.
    query = (query or "").replace("\x00", "").strip()[:100]
    vendors = vendors_to_request_from()
    if query:
        vendors = vendors.filter(Q(name__icontains=query) | Q(legal_name__icontains=query))
    return list(
        vendors.annotate(
            starts=Case(When(name__istartswith=query, then=Value(0)), default=Value(1)),
            approved_first=Case(
                When(status__in=APPROVED_STATUSES, then=Value(0)), default=Value(1)
            ),
        ).order_by("starts", "approved_first", "name")[:limit]
    )


def ratings_of_request(purchase_request) -> list[VendorRating]:
    """The ratings given to the vendor of a closed request, by whom, oldest first."""
    return list(
        VendorRating.objects.filter(request=purchase_request)
        .select_related("rater")
        .order_by("created_at", "id")
    )
