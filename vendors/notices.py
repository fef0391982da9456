"""Scheduled vendor notices (SPEC §4): certificates expiring in 30 and 7 days. Each notice is
sent once (dedupe key), however often the task runs. A contract's renewal notice is the renewal
schedule's (budgets.services.create_renewal): one notice per term, linking to the renewal
request, where its owner acts."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from accounts import roles
from core import formats
from notifications.models import Kind
from notifications.services import notify

from .models import Certificate

CERTIFICATE_WARNINGS = (30, 7)


def certificate_expiry_notices(today=None) -> int:
    today = today or timezone.localdate()
    sent = 0
    reviewers = list(
        get_user_model()
        .objects.filter(groups__name__in=[roles.IT_REVIEWERS, roles.PROCUREMENT], is_active=True)
        .distinct()
    )
    soon = Certificate.objects.filter(
        expires_on__gte=today, expires_on__lte=today + timedelta(days=max(CERTIFICATE_WARNINGS))
    ).select_related("vendor")
    for certificate in soon:
        days_left = (certificate.expires_on - today).days
        # The tightest warning reached: 7 when 7 days or fewer are left, else 30.
        warning = min(w for w in CERTIFICATE_WARNINGS if days_left <= w)
        with transaction.atomic():
            sent += notify(
                reviewers,
                subject=(
                    f"{certificate.get_kind_display()} of {certificate.vendor} expires in "
                    f"{days_left} days"
                ),
                lines=[
                    f"The {certificate.get_kind_display()} certificate issued by "
                    f"{certificate.issuer} expires on {formats.day(certificate.expires_on)}.",
                    "Ask the vendor for the renewed certificate and upload it.",
                ],
                action="Open the vendor",
                url=certificate.vendor.get_absolute_url(),
                dedupe_key=f"certificate:{certificate.pk}:{warning}",
                kind=Kind.GROUP,
            )
    return sent
