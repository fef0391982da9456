"""The benchmark data set: 100,000 requests with 300,000 approval steps, 5,000 vendors and 2,000
users, bulk-created in well under two minutes; idempotent per size (run again, nothing happens;
ask for another size and the bench rows are replaced)."""

import os
import random
import time
from datetime import timedelta
from decimal import Decimal

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django  # noqa: E402

BATCH = 5_000
PREFIX = "BENCH-"
OPEN_SHARE = 10  # one request in ten is in review, with its stage-1 steps open


def setup() -> None:
    """Creates the benchmark database if needed, then migrates it."""
    from urllib.parse import urlsplit

    import psycopg2

    url = urlsplit(
        os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tandem_bench")
    )
    admin = psycopg2.connect(
        host=url.hostname, port=url.port or 5432, user=url.username or "postgres",
        password=url.password or "", dbname="postgres",
    )  # fmt: skip
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [url.path.lstrip("/")])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{url.path.lstrip("/")}"')
    admin.close()
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    vacuum()


def vacuum() -> None:
    """VACUUM ANALYZE, as autovacuum would have done: the sweep's benchmark writes and removes a
    million steps each run, and where autovacuum is off (as on this workplace's PostgreSQL)
    their dead rows stay, tripling the step table and turning index-only scans of later
    benchmarks into reads of the whole table."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def seed(requests: int = 100_000, users: int = 2_000, vendors: int = 5_000) -> dict:
    from django.contrib.auth.models import Group
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import Department, User
    from approvals.models import ApprovalStep
    from intake.models import Category, LineItem, PurchaseRequest
    from vendors.models import Vendor

    if PurchaseRequest.objects.filter(number__startswith=PREFIX).count() == requests:
        return {"seeded": False, **_handles()}
    started = time.monotonic()
    rng = random.Random(42)
    now = timezone.now()
    with transaction.atomic():
        PurchaseRequest.objects.filter(number__startswith=PREFIX).delete()
        User.objects.filter(username__startswith="bench-").delete()
        Vendor.objects.filter(name__startswith="Bench Vendor ").delete()
        departments = [
            Department.objects.get_or_create(
                cost_centre=f"BENCH-{n}", defaults={"name": f"Bench {n}"}
            )[0]
            for n in range(20)
        ]
        groups = {g.name: g for g in Group.objects.all()}
        User.objects.bulk_create(
            User(
                username=f"bench-user-{n}",
                email=f"bench-user-{n}@bench.example",
                department=departments[n % 20],
                password="!",
            )  # fmt: skip
            for n in range(users)
        )
        reviewers = {
            name: User.objects.create(username=f"bench-{name}", email=f"bench-{name}@bench.example")
            for name in ("it_reviewers", "procurement", "cio")
        }
        for name, user in reviewers.items():
            user.groups.add(groups[name])
        requesters = list(User.objects.filter(username__startswith="bench-user-").order_by("pk"))
        Vendor.objects.bulk_create(
            (Vendor(name=f"Bench Vendor {n}", status="approved") for n in range(vendors)),
            batch_size=BATCH,
        )
        vendor_ids = list(
            Vendor.objects.filter(name__startswith="Bench Vendor ").values_list("pk", flat=True)
        )
        categories = list(Category.objects.all())
        for start in range(0, requests, BATCH):
            batch = []
            for n in range(start, min(start + BATCH, requests)):
                in_review = n % OPEN_SHARE == 0
                submitted = now - timedelta(days=rng.randint(1, 700))
                total = Decimal(rng.randint(100, 200_000))
                batch.append(
                    PurchaseRequest(
                        number=f"{PREFIX}{n:07d}",
                        requester=requesters[n % len(requesters)],
                        state="in_review" if in_review else "approved",
                        title=f"Bench request {n}",
                        description="Benchmark data",
                        business_justification="Benchmark",
                        category=categories[n % len(categories)],
                        department=departments[n % 20],
                        vendor_id=vendor_ids[n % len(vendor_ids)],
                        currency="EUR",
                        total_cost=total,
                        total_cost_base=total,
                        data_classification="internal",
                        handles_personal_data=False,
                        submitted_at=submitted,
                        decided_at=None
                        if in_review
                        else submitted + timedelta(hours=rng.randint(4, 400)),
                    )  # fmt: skip
                )
            created = PurchaseRequest.objects.bulk_create(batch)
            LineItem.objects.bulk_create(
                LineItem(
                    request=r, description="Seat", quantity=Decimal(1), unit_price=r.total_cost
                )
                for r in created
            )
            steps = []
            for r in created:
                in_review = r.state == "in_review"
                opened = r.submitted_at
                for side, group, stage in (
                    ("it", "it_reviewers", 1), ("procurement", "procurement", 1), ("it", "cio", 2),
                ):  # fmt: skip
                    state = ("open" if stage == 1 else "waiting") if in_review else "approved"
                    steps.append(
                        ApprovalStep(
                            request=r,
                            round=1,
                            stage=stage,
                            side=side,
                            group=groups[group],
                            rule_name="Bench",
                            sla_hours=48,
                            repeat_every_hours=24,
                            escalate_after_hours=96,
                            state=state,
                            opened_at=opened if state != "waiting" else None,
                            due_at=opened + timedelta(hours=48) if state != "waiting" else None,
                            escalate_at=opened + timedelta(hours=96)
                            if state != "waiting"
                            else None,
                            decided_at=None if in_review else r.decided_at,
                        )  # fmt: skip
                    )
            ApprovalStep.objects.bulk_create(steps, batch_size=BATCH)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"seeded": True, "seconds": round(time.monotonic() - started, 1), **_handles()}


def _handles() -> dict:
    """A fresh scoped API token for the IT reviewer: only its hash is stored, so each run makes
    one (and the one of the run before goes)."""
    from accounts.models import ApiToken, User
    from accounts.tokens import create_token

    reviewer = User.objects.get(username="bench-it_reviewers")
    ApiToken.objects.filter(user=reviewer, name="Benchmark").delete()
    _, token = create_token(reviewer, name="Benchmark", scopes=["read", "write", "decide"])
    return {"it_reviewer_token": token}


if __name__ == "__main__":
    setup()
    print(seed())
