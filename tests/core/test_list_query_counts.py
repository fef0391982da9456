"""Every list page and list endpoint runs the same number of queries for 5 rows as for 50 (no
query per row), and no more than its pinned number. One table: the URL, who looks, and how a
row of that list is made. Lists that live on a detail page (comments, steps, certificates)
are here too."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import roles
from accounts.models import Delegation
from accounts.tokens import create_token
from approvals import workflow
from approvals.models import ApprovalRule, ApprovalStep
from audit.services import record_event
from intake.models import Comment
from notifications.models import Notification
from tests.factories import (
    CategoryFactory,
    PurchaseRequestFactory,
    UserFactory,
    VendorFactory,
)
from vendors.models import Certificate, Contract, VendorRating


def today():
    return timezone.localdate()


class World:
    """The people and the subjects whose lists grow."""

    def __init__(self):
        self.requester = UserFactory(username="rita")
        self.it_reviewer = UserFactory(username="ivan", roles=[roles.IT_REVIEWERS])
        self.cio = UserFactory(username="cora", roles=[roles.CIO])
        self.admin = UserFactory(username="ada", is_staff=True, is_superuser=True)
        self.request = PurchaseRequestFactory(requester=self.requester)
        self.vendor = VendorFactory(name="Listed Vendor")
        self.it_group = Group.objects.get(name=roles.IT_REVIEWERS)
        self.made = 0

    def step(self, **where):
        self.made += 1
        return ApprovalStep.objects.create(
            round=self.made,
            side="it",
            group=self.it_group,
            rule_name="Listed",
            sla_hours=48,
            repeat_every_hours=24,
            escalate_after_hours=96,
            state="approved",
            decided_by=self.it_reviewer,
            decided_at=timezone.now(),
            **where,
        )


def drafts(world, n):
    PurchaseRequestFactory.create_batch(n, requester=world.requester)


def submitted(world, n):
    for _ in range(n):
        purchase_request = PurchaseRequestFactory()
        workflow.submit_request(purchase_request, by=purchase_request.requester)


def own_submitted(world, n):
    for _ in range(n):
        purchase_request = PurchaseRequestFactory(requester=world.requester)
        workflow.submit_request(purchase_request, by=world.requester)


def request_steps(world, n):
    for _ in range(n):
        world.step(request=world.request)


def vendor_steps(world, n):
    for _ in range(n):
        world.step(vendor=world.vendor)


def comments(world, n):
    Comment.objects.bulk_create(
        Comment(request=world.request, author=world.requester, body=f"Comment {i}")
        for i in range(n)
    )


def events(world, n):
    with transaction.atomic():
        for i in range(n):
            record_event(world.request, actor=world.requester, kind="noted", payload={"n": i})


def rules(world, n):
    for i in range(n):
        ApprovalRule.objects.create(
            name=f"Listed rule {world.made}-{i}", reviewer_group=world.it_group, side="it"
        )
    world.made += 1


def vendors(world, n):
    VendorFactory.create_batch(n)


def certificates(world, n):
    Certificate.objects.bulk_create(
        Certificate(
            vendor=world.vendor,
            kind="soc2_type2",
            issuer=f"Auditor {i}",
            issued_on=today() - timedelta(days=300),
            expires_on=today() + timedelta(days=5 + i),
            uploaded_by=world.it_reviewer,
        )
        for i in range(n)
    )


def contracts(world, n):
    for i in range(n):
        Contract.objects.create(
            vendor=world.vendor,
            title=f"Contract {i}",
            starts_on=today() - timedelta(days=5),
            ends_on=today() + timedelta(days=50 + i),
            annual_value=Decimal("10.00"),
            owner=world.it_reviewer,
        )


def ratings(world, n):
    for _ in range(n):
        rated = PurchaseRequestFactory(
            vendor=world.vendor, requester=world.requester, state="closed"
        )
        VendorRating.objects.create(
            vendor=world.vendor,
            request=rated,
            rater=world.requester,
            delivery=3,
            quality=4,
            support=5,
        )


def categories(world, n):
    for _ in range(n):
        world.made += 1
        CategoryFactory(name=f"Listed {world.made}", slug=f"listed-{world.made}")


def delegations(world, n):
    start = timezone.now() + timedelta(days=1 + world.made)
    for i in range(n):
        Delegation.objects.create(
            delegator=world.it_reviewer,
            delegate=UserFactory(),
            starts_at=start + timedelta(days=2 * i),
            ends_at=start + timedelta(days=2 * i + 1),
        )
    world.made += 2 * n + 1


def tokens(world, n, who="requester"):
    for _ in range(n):
        world.made += 1
        create_token(getattr(world, who), name=f"Token {world.made}", scopes=["read"])


def notifications(world, n):
    Notification.objects.bulk_create(
        Notification(
            recipient=world.requester,
            channel="in_app",
            subject=f"Message {i}",
            body="b",
            url="/",
            status="sent",
        )
        for i in range(n)
    )


def group_notices(world, n):
    """A group's notices: one row each for the whole group, which the reviewer sees."""
    Notification.objects.bulk_create(
        Notification(
            group=world.it_group, channel="in_app", subject=f"Step {i}", body="b", url="/",
            status="sent",
        )
        for i in range(n)
    )  # fmt: skip


# (name, who looks, "api" or "page", URL (formatted with the world), how rows are made, the
# pinned number of queries)
LISTS = [
    ("requests API", "requester", "api", "/api/requests/?page_size=50", drafts, 7),
    ("requests API, mine", "requester", "api", "/api/requests/?mine=true", drafts, 7),
    ("awaiting=me API", "it_reviewer", "api", "/api/requests/?awaiting=me", submitted, 8),
    ("a request's steps API", "requester", "api", "/api/requests/{r}/steps/", request_steps, 8),
    ("a request's comments API", "requester", "api", "/api/requests/{r}/comments/", comments, 7),
    ("a request's events API", "requester", "api", "/api/requests/{r}/events/", events, 7),
    ("rules API", "admin", "api", "/api/rules/", rules, 5),
    ("vendors API", "it_reviewer", "api", "/api/vendors/", vendors, 4),
    ("certificates API", "it_reviewer", "api", "/api/vendors/{v}/certificates/", certificates, 4),
    ("contracts API", "it_reviewer", "api", "/api/vendors/{v}/contracts/", contracts, 5),
    ("ratings API", "it_reviewer", "api", "/api/vendors/{v}/ratings/", ratings, 4),
    ("vendor review steps API", "it_reviewer", "api", "/api/vendors/{v}/steps/", vendor_steps, 7),
    ("categories API", "requester", "api", "/api/categories/", categories, 3),
    ("delegations API", "it_reviewer", "api", "/api/delegations/", delegations, 3),
    ("tokens API (session only)", "requester", "page", "/api/tokens/", tokens, 4),
    # Pages: +1 for whether the reader owns a budget (the menu's Budgets link, issue 29).
    ("My requests page", "requester", "page", "/requests/", own_submitted, 12),
    # Waiting for me: +1 for the steps the reader holds ("Yours", first).
    ("Waiting for me page", "it_reviewer", "page", "/approvals/", submitted, 17),
    ("team view (Waiting for me, CIO)", "cio", "page", "/approvals/", submitted, 15),
    ("vendors page", "it_reviewer", "page", "/vendors/", vendors, 9),
    ("request page: comments", "requester", "page", "/requests/{r}/", comments, 19),
    ("request page: steps", "requester", "page", "/requests/{r}/", request_steps, 25),
    ("vendor page: certificates", "it_reviewer", "page", "/vendors/{v}/", certificates, 20),
    ("vendor page: contracts", "it_reviewer", "page", "/vendors/{v}/", contracts, 22),
    ("notifications page", "requester", "page", "/notifications/", notifications, 9),
    ("notifications page, group's", "it_reviewer", "page", "/notifications/", group_notices, 9),
    ("out-of-office page", "it_reviewer", "page", "/accounts/out-of-office/", delegations, 10),
    ("API tokens page", "requester", "page", "/accounts/api-tokens/", tokens, 8),
]


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(captured)


@pytest.mark.parametrize(
    ("who", "kind", "url", "make", "pinned"),
    [pytest.param(*row[1:], id=row[0]) for row in LISTS],
)
def test_a_list_runs_as_many_queries_for_50_rows_as_for_5(
    db, client, api, who, kind, url, make, pinned
):
    world = World()
    viewer = getattr(world, who)
    if kind == "api":
        api.as_user(viewer)
        http = api
    else:
        client.force_login(viewer)
        http = client
    url = url.format(r=world.request.pk, v=world.vendor.pk)
    make(world, 5)
    http.get(url)  # warms what is cached per process (content types, the site's settings)
    five = _queries(http, url)
    make(world, 45)
    fifty = _queries(http, url)
    assert fifty == five, f"{five} queries for 5 rows, {fifty} for 50"
    assert five <= pinned
