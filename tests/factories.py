from datetime import timedelta
from decimal import Decimal

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.models import Department, User
from intake.models import Category, LineItem, PurchaseRequest
from vendors.models import Vendor, VendorStatus


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ["cost_centre"]

    name = factory.Sequence(lambda n: f"Department {n}")
    cost_centre = factory.Sequence(lambda n: f"CC-{n:04d}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@tandem.example")
    department = factory.SubFactory(DepartmentFactory)
    password = factory.django.Password("secret-pass-123")
    # On the site long before whatever a test makes happen (many travel back in time): a group's
    # notices show to the members who had joined when they were written.
    date_joined = factory.LazyFunction(lambda: timezone.now() - timedelta(days=3650))

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for name in extracted or ():
            self.groups.add(Group.objects.get(name=name))


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ["slug"]

    name = "SaaS subscription"
    slug = "saas-subscription"


class VendorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Vendor

    name = factory.Sequence(lambda n: f"Vendor {n}")
    website = factory.LazyAttribute(lambda v: f"https://{v.name.lower().replace(' ', '-')}.example")
    status = VendorStatus.APPROVED


class PurchaseRequestFactory(factory.django.DjangoModelFactory):
    """A request complete enough to be submitted. Set `state=` to start elsewhere."""

    class Meta:
        model = PurchaseRequest
        skip_postgeneration_save = True

    number = factory.Sequence(lambda n: f"PR-2099-{n:05d}")
    requester = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Design tool seats {n}")
    description = "Seats for the design team."
    business_justification = "The team has outgrown the free plan."
    expected_benefit = "Faster design reviews."
    category = factory.SubFactory(CategoryFactory)
    department = factory.LazyAttribute(lambda pr: pr.requester.department)
    needed_by = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=30))
    vendor = factory.SubFactory(VendorFactory)
    currency = "EUR"
    billing = "one_off"
    data_classification = "internal"
    handles_personal_data = False
    total_cost = Decimal("1000.00")
    total_cost_base = factory.LazyAttribute(lambda pr: pr.total_cost)

    @factory.post_generation
    def line_items(self, create, extracted, **kwargs):
        if not create:
            return
        rows = extracted if extracted is not None else [("Seat", "10", "100.00")]
        LineItem.objects.bulk_create(
            LineItem(
                request=self, position=i, description=d, quantity=Decimal(q), unit_price=Decimal(p)
            )
            for i, (d, q, p) in enumerate(rows)
        )
