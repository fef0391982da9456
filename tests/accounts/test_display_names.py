"""People, not group codes (issue 14, item 1): one place names the roles."""

import pytest

from accounts import roles
from tests.factories import UserFactory


def test_every_role_group_has_a_display_name():
    assert {name: roles.group_label(name) for name in roles.ALL_GROUPS} == {
        "it_reviewers": "IT review",
        "cio": "CIO",
        "procurement": "Procurement",
        "cpo": "CPO",
        "finance": "Finance",
    }


def test_a_group_added_later_reads_as_words():
    assert roles.group_label("security_team") == "Security team"


def test_stored_names_that_are_not_codes_stay_as_they_are():
    assert roles.label_of("cio") == "CIO"
    assert roles.label_of("Ivan Novak") == "Ivan Novak"


@pytest.mark.django_db
def test_people_phrase_names_a_person_and_counts_the_others():
    ivan = UserFactory(first_name="Ivan", last_name="Novak")
    assert roles.people_phrase(None, 0, "it_reviewers") == "IT review (nobody in it yet)"
    assert roles.people_phrase(ivan, 1, "it_reviewers") == "Ivan Novak (IT review)"
    assert roles.people_phrase(ivan, 2, "it_reviewers") == "Ivan Novak or 1 other in IT review"
    assert roles.people_phrase(ivan, 3, "it_reviewers") == "Ivan Novak or 2 others in IT review"


@pytest.mark.django_db
def test_groups_read_by_their_display_name_in_the_admin(client, admin_user):
    from django.contrib.auth.models import Group

    assert str(Group.objects.get(name="it_reviewers")) == "IT review"
    client.force_login(admin_user)
    page = client.get(f"/admin/accounts/user/{admin_user.pk}/change/").content.decode()
    assert ">IT review</option>" in page
    assert ">it_reviewers</option>" not in page
