from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Delegation
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def window(days_from, days_until):
    now = timezone.localtime()
    return {
        "starts_at": (now + timedelta(days=days_from)).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (now + timedelta(days=days_until)).strftime("%Y-%m-%dT%H:%M"),
    }


def test_user_delegates_and_ends_it(client, it_reviewer):
    stand_in = UserFactory(username="stand-in")
    client.force_login(it_reviewer)
    response = client.post("/accounts/out-of-office/", {"delegate": stand_in.pk, **window(0, 5)})
    assert response.status_code == 302
    delegation = Delegation.objects.get()
    assert (delegation.delegator, delegation.delegate) == (it_reviewer, stand_in)
    client.post(f"/accounts/out-of-office/{delegation.pk}/end/")
    delegation.refresh_from_db()
    assert delegation.ends_at <= timezone.now()


def test_window_must_end_after_it_starts(client, it_reviewer):
    stand_in = UserFactory(username="stand-in")
    client.force_login(it_reviewer)
    response = client.post("/accounts/out-of-office/", {"delegate": stand_in.pk, **window(5, 1)})
    assert "The delegation must end after it starts." in response.content.decode()
    assert not Delegation.objects.exists()


def test_nobody_delegates_to_themselves(client, it_reviewer):
    client.force_login(it_reviewer)
    response = client.post("/accounts/out-of-office/", {"delegate": it_reviewer.pk, **window(0, 1)})
    assert response.status_code == 200
    assert not Delegation.objects.exists()


def test_only_the_delegator_ends_a_delegation(client, it_reviewer, other_requester):
    now = timezone.now()
    delegation = Delegation.objects.create(
        delegator=it_reviewer,
        delegate=other_requester,
        starts_at=now,
        ends_at=now + timedelta(days=1),
    )
    client.force_login(other_requester)
    assert client.post(f"/accounts/out-of-office/{delegation.pk}/end/").status_code == 404


def test_a_window_that_has_already_ended_is_refused_with_a_form_error(client, it_reviewer):
    stand_in = UserFactory(username="stand-in")
    client.force_login(it_reviewer)
    response = client.post("/accounts/out-of-office/", {"delegate": stand_in.pk, **window(-5, -1)})
    assert response.status_code == 200
    assert "This window has already ended" in response.content.decode()
    assert not Delegation.objects.exists()


def test_the_page_says_what_overlapping_delegations_mean(client, it_reviewer):
    client.force_login(it_reviewer)
    page = client.get("/accounts/out-of-office/").content.decode()
    assert "overlapping times" in page and "whoever decides first" in page


def test_the_page_keeps_delegations_within_sensible_years(client, it_reviewer):
    """The same rules as the API and the admin (Delegation.clean)."""
    stand_in = UserFactory(username="stand-in")
    client.force_login(it_reviewer)
    response = client.post(
        "/accounts/out-of-office/",
        {"delegate": stand_in.pk, "starts_at": "2026-12-01T09:00", "ends_at": "2101-01-01T09:00"},
    )
    assert "Choose a date between 2000 and 2100." in response.content.decode()
    assert not Delegation.objects.exists()
