"""E-mails and in-app notifications name roles and people as pages do (issue 14, items 1 and 2):
display names, never group codes; times in one format."""

import re
from datetime import UTC, datetime

import pytest
import time_machine

from approvals import workflow
from notifications.models import Channel, Notification
from tests.factories import PurchaseRequestFactory

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("group_items_at_once")  # the e-mail at once, not in the digest
def test_the_opened_step_mail_names_the_role_and_formats_the_due_time(
    requester, it_reviewer, procurement
):
    with time_machine.travel(datetime(2026, 3, 2, 8, 0, tzinfo=UTC), tick=False):
        purchase_request = workflow.submit_request(
            PurchaseRequestFactory(requester=requester), by=requester
        )
    mail = Notification.objects.get(recipient=it_reviewer, channel=Channel.EMAIL)
    assert f"For your decision: {purchase_request.number}" in mail.subject
    assert "is open for IT review." in mail.body
    assert "It is due Wednesday 08:00 UTC (4 Mar 2026)." in mail.body
    for notification in Notification.objects.all():
        assert not re.search(
            r"\b(it_reviewers|cio|cpo)\b", notification.body + notification.body_html
        )
