"""Helpers shared by the vendor API tests."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from intake.models import State
from tests.factories import PurchaseRequestFactory
from vendors.models import (
    AnswerOption,
    Certificate,
    Contract,
    VendorRating,
)

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48
UNKNOWN = 999_999


def url(vendor, action=""):
    pk = getattr(vendor, "pk", vendor)
    return f"/api/vendors/{pk}/" + (f"{action}/" if action else "")


def days(n):
    return timezone.localdate() + timedelta(days=n)


def certificate(vendor, *, expires_in, by):
    return Certificate.objects.create(
        vendor=vendor,
        kind="iso27001",
        issuer="BSI",
        issued_on=days(expires_in - 365),
        expires_on=days(expires_in),
        uploaded_by=by,
    )


def contract(vendor, *, starts_in, ends_in, owner):
    return Contract.objects.create(
        vendor=vendor,
        title="Licences",
        starts_on=days(starts_in),
        ends_on=days(ends_in),
        annual_value=Decimal("1000"),
        owner=owner,
    )


def rating(vendor, *, delivery, quality, support):
    purchase_request = PurchaseRequestFactory(vendor=vendor, state=State.CLOSED)
    return VendorRating.objects.create(
        vendor=vendor,
        request=purchase_request,
        rater=purchase_request.requester,
        delivery=delivery,
        quality=quality,
        support=support,
    )


def certificate_payload(**overrides):
    return {
        "kind": "soc2_type2",
        "issuer": "Big Four LLP",
        "issued_on": days(-345).isoformat(),
        "expires_on": days(20).isoformat(),
        **overrides,
    }


def contract_payload(**overrides):
    return {
        "title": "Analytics platform",
        "starts_on": days(-10).isoformat(),
        "ends_on": days(355).isoformat(),
        "auto_renew": True,
        "notice_days": 60,
        "annual_value": "12000.00",
        "currency": "EUR",
        **overrides,
    }


def option_with_risk(question, risk):
    return AnswerOption.objects.get(question=question, risk=risk)
