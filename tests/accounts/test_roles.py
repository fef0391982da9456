import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from accounts.models import User
from accounts.roles import ALL_GROUPS
from intake.models import PurchaseRequest
from vendors.models import Vendor

pytestmark = pytest.mark.django_db


def test_role_groups_exist_after_migrating():
    assert set(Group.objects.values_list("name", flat=True)) >= set(ALL_GROUPS)


def test_seed_demo_is_idempotent(capsys):
    call_command("seed_demo")
    counts = (User.objects.count(), Vendor.objects.count(), PurchaseRequest.objects.count())
    call_command("seed_demo")
    assert (User.objects.count(), Vendor.objects.count(), PurchaseRequest.objects.count()) == counts
    output = capsys.readouterr().out
    assert "rita" in output and "tandem-demo" in output
    assert User.objects.get(username="cora").groups.filter(name="cio").exists()
    assert User.objects.get(username="admin").is_superuser
    assert PurchaseRequest.objects.filter(state="in_review").exists()


def test_user_time_zone_is_used_on_pages(client):
    from intake.services import add_comment
    from tests.factories import PurchaseRequestFactory, UserFactory

    user = UserFactory(time_zone="Asia/Tokyo")
    add_comment(PurchaseRequestFactory(requester=user), by=user, body="When?")
    client.force_login(user)
    page = client.get(f"/requests/{PurchaseRequest.objects.get().pk}/").content.decode()
    assert "JST" in page
