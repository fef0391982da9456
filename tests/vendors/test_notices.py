"""Scheduled notices (SPEC §4): certificates at 30 and 7 days, the daily digest; each sent once
however often the task runs. Contracts: tests/budgets/test_one_renewal_notice.py."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from approvals import workflow
from approvals.digest import send_daily_digest
from notifications.models import Channel, Notification
from tests.factories import PurchaseRequestFactory, VendorFactory
from vendors.models import Certificate
from vendors.notices import certificate_expiry_notices

pytestmark = pytest.mark.django_db


def emails(subject_part):
    return Notification.objects.filter(channel=Channel.EMAIL, subject__contains=subject_part)


@pytest.mark.usefixtures("group_items_at_once")  # the e-mail at once, not in the digest
def test_certificate_notices_at_30_and_7_days_once_each(it_reviewer, procurement):
    today = timezone.localdate()
    Certificate.objects.create(
        vendor=VendorFactory(name="Acme"), kind="iso27001", issuer="BSI",
        issued_on=today - timedelta(days=300), expires_on=today + timedelta(days=40),
        uploaded_by=it_reviewer,
    )  # fmt: skip
    assert certificate_expiry_notices(today) == 0  # 40 days: nothing yet
    assert certificate_expiry_notices(today + timedelta(days=10)) == 4  # 2 people x 2 channels
    assert certificate_expiry_notices(today + timedelta(days=11)) == 0  # once per warning
    assert certificate_expiry_notices(today + timedelta(days=33)) == 4  # the 7-day warning
    assert certificate_expiry_notices(today + timedelta(days=34)) == 0
    assert emails("ISO 27001 of Acme expires").count() == 4


def test_daily_digest_once_a_day_to_cio_and_cpo(
    cio, cpo, requester, django_capture_on_commit_callbacks
):

    workflow.submit_request(PurchaseRequestFactory(requester=requester), by=requester)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert send_daily_digest() == 4
        assert send_daily_digest() == 0
    assert sorted(m.to[0] for m in mail.outbox) == sorted([cio.email, cpo.email])
    assert "Open approval steps: 2" in mail.outbox[0].body
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        assert send_daily_digest() == 4
