"""The load test's people and data, in its fresh database: 150 requesters, 50 reviewers (20 in
IT review, 20 in procurement, 5 with the CIO and 5 with the CPO), an API token each, approved
vendors, and two rules that add the CIO and the CPO as a second stage above 20,000. Writes the
tokens to the JSON file named on the command line, for the Locust users."""

import json
import sys
from decimal import Decimal

import django

django.setup()

from django.contrib.auth.models import Group  # noqa: E402
from django.db import transaction  # noqa: E402

from accounts.models import Department, User  # noqa: E402
from accounts.tokens import create_token  # noqa: E402
from approvals.models import ApprovalRule  # noqa: E402
from intake.models import Category  # noqa: E402
from vendors.models import Vendor  # noqa: E402

REQUESTERS = 150
REVIEWERS = {"it_reviewers": 20, "procurement": 20, "cio": 5, "cpo": 5}
SECOND_STAGE_ABOVE = Decimal(20_000)


def token_for(user) -> str:
    """A scoped API token, as an integration would hold (Authorization: Bearer tdm_…)."""
    return create_token(user, name="Load test", scopes=["read", "write", "decide"])[1]


def seed() -> dict:
    groups = {group.name: group for group in Group.objects.all()}
    with transaction.atomic():
        department = Department.objects.create(name="Load", cost_centre="CC-LOAD")
        requesters = []
        for n in range(REQUESTERS):
            user = User.objects.create(
                username=f"load-requester-{n}",
                first_name="Requester",
                last_name=str(n),
                email=f"load-requester-{n}@load.example",
                department=department,
            )
            requesters.append(token_for(user))
        reviewers = []
        for group_name, count in REVIEWERS.items():
            for n in range(count):
                user = User.objects.create(
                    username=f"load-{group_name}-{n}",
                    first_name=group_name.replace("_", " ").title(),
                    last_name=str(n),
                    email=f"load-{group_name}-{n}@load.example",
                    department=department,
                )
                user.groups.add(groups[group_name])
                reviewers.append({"token": token_for(user), "group": group_name})
        vendors = [
            Vendor.objects.create(name=f"Load Vendor {n}", status="approved").pk for n in range(20)
        ]
        for side, group_name in (("it", "cio"), ("procurement", "cpo")):
            ApprovalRule.objects.create(
                name=f"Load: {group_name.upper()} above {SECOND_STAGE_ABOVE}",
                min_total=SECOND_STAGE_ABOVE,
                side=side,
                stage=2,
                reviewer_group=groups[group_name],
            )
    return {
        "requesters": requesters,
        "reviewers": reviewers,
        "vendors": vendors,
        "categories": list(Category.objects.filter(active=True).values_list("pk", flat=True)),
        "department": department.pk,
    }


if __name__ == "__main__":
    with open(sys.argv[1], "w") as out:
        json.dump(seed(), out)
