"""A person's time zone is one of the tz database's, checked when it is saved; the names are
not written into a migration as choices (issue #31 item 5): the machine's tzdata changes with
its updates, and a schema must not follow it."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_model_lists_no_zones_but_refuses_an_unknown_one():
    assert not User._meta.get_field("time_zone").choices
    person = UserFactory()
    person.time_zone = "Mars/Olympus_Mons"
    with pytest.raises(ValidationError) as refused:
        person.full_clean()
    assert "Choose a time zone from the list" in str(refused.value)
    person.time_zone = "Europe/Berlin"
    person.full_clean()


def test_the_page_offers_every_zone_and_refuses_an_unknown_one(client):
    person = UserFactory()
    client.force_login(person)
    page = client.get(reverse("accounts:time-zone")).content.decode()
    assert '<option value="Europe/Berlin">' in page
    assert "The time zone of my team&#x27;s working hours" in page

    client.post(reverse("accounts:time-zone"), {"time_zone": "Mars/Olympus_Mons"})
    person.refresh_from_db()
    assert person.time_zone != "Mars/Olympus_Mons"

    client.post(reverse("accounts:time-zone"), {"time_zone": "Asia/Tokyo"})
    person.refresh_from_db()
    assert person.time_zone == "Asia/Tokyo"


def test_the_admin_picks_the_zone_from_the_list(client, admin_user):
    client.force_login(admin_user)
    page = client.get(reverse("admin:accounts_user_change", args=[admin_user.pk])).content
    assert b'<select name="time_zone"' in page
    assert b'<option value="Asia/Tokyo">' in page
