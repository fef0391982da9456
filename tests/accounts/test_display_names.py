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


def test_names_phrase_is_the_one_wording_of_who_may_act():
    """Saved steps' holders, the request form's preview and people_label all word people so."""
    ivan, ines, ian, iris, ida = "Ivan Ito", "Ines Ives", "Ian Irwin", "Iris Ives", "Ida Ives"
    assert roles.names_phrase([]) == ""
    assert roles.names_phrase([ivan]) == "Ivan Ito"
    assert roles.names_phrase([ivan, ines], shown=2) == "Ivan Ito or Ines Ives"
    # One more than shown is named, not counted as "1 other".
    assert roles.names_phrase([ivan, ines, ian], shown=2) == "Ivan Ito, Ines Ives or Ian Irwin"
    everyone = [ivan, ines, ian, iris, ida]
    assert roles.names_phrase(everyone, shown=2) == "Ivan Ito, Ines Ives or 3 others"
    assert roles.names_phrase(everyone) == "Ivan Ito, Ines Ives, Ian Irwin or 2 others"
    # Only the first few known, and how many they are in all.
    assert roles.names_phrase([ivan], 2) == "Ivan Ito or 1 other"
    assert roles.names_phrase([ivan], 4) == "Ivan Ito or 3 others"


@pytest.mark.django_db
def test_groups_read_by_their_display_name_in_the_admin(client, admin_user):
    from django.contrib.auth.models import Group

    assert str(Group.objects.get(name="it_reviewers")) == "IT review"
    client.force_login(admin_user)
    page = client.get(f"/admin/accounts/user/{admin_user.pk}/change/").content.decode()
    assert ">IT review</option>" in page
    assert ">it_reviewers</option>" not in page
