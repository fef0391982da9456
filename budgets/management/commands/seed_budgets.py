"""The demo's budgets and renewals (run by seed_demo, after its users, vendors and rules):
Sales near its budget, a Marketing request over budget waiting for Fiona's approval as the
budget owner, and renewal requests drafted from expiring contracts. Safe to run again."""

from datetime import timedelta
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.utils import timezone

from accounts.models import Department, User
from approvals import workflow
from approvals.services import decide_step
from budgets import fiscal, services
from budgets.models import Budget, OverrunAction
from intake import services as intake_services
from intake.models import Category, PurchaseRequest
from vendors.models import Contract, Vendor

NEAR_BUDGET_TITLE = "Sales CRM seats for the new account managers"
OVER_BUDGET_TITLE = "Video production suite for the spring campaign"


class Command(BaseCommand):
    help = "Loads the demo budgets and renewals (idempotent); seed_demo runs it."

    def handle(self, *args, **options):
        users = {u.username: u for u in User.objects.filter(username__in=DEMO_USERS)}
        if set(users) != set(DEMO_USERS):
            self.stderr.write("Run seed_demo first: the demo users are missing.")
            return
        today = timezone.localdate()
        starts = today + timedelta(days=20)
        year = fiscal.fiscal_year_of(starts)
        marketing = Department.objects.get(cost_centre="CC-100")
        sales = Department.objects.get(cost_centre="CC-500")
        for department, amount in ((marketing, "20000"), (sales, "15000")):
            Budget.objects.get_or_create(
                department=department,
                fiscal_year=year,
                category=None,
                defaults={
                    "amount": Decimal(amount),
                    "owner": users["fiona"],
                    "overrun_action": OverrunAction.OWNER_APPROVAL,
                },
            )
        saas = Category.objects.get(slug="saas-subscription")
        software = Category.objects.filter(slug="software-licence").first() or saas
        microsoft = Vendor.objects.get(name__iexact="Microsoft")
        self._request(
            users["rita"],
            {
                "title": NEAR_BUDGET_TITLE,
                "description": "Dynamics 365 Sales seats for six new account managers.",
                "business_justification": "The sales team grows by six people this quarter.",
                "category": saas,
                "department": sales,
                "vendor": microsoft,
                "billing": "annual",
                "term_months": 12,
                "needed_by": starts,
                "data_classification": "internal",
                "handles_personal_data": False,
            },
            [("Dynamics 365 Sales seat", 6, "2200.00")],
            approve_by=(users["ivan"], users["paul"]),
        )
        self._request(
            users["rita"],
            {
                "title": OVER_BUDGET_TITLE,
                "description": "Editing and motion design licences for the campaign videos.",
                "business_justification": "The agency's quote for the videos is twice the cost.",
                "category": software,
                "department": marketing,
                "vendor": microsoft,
                "billing": "one_off",
                "needed_by": starts,
                "data_classification": "internal",
                "handles_personal_data": False,
            },
            [("Video production suite, perpetual licence", 8, "2600.00")],
        )
        self._renewals(users["paul"], microsoft, today)

    def _request(self, rita, fields, lines, approve_by=()):
        if PurchaseRequest.objects.filter(requester=rita, title=fields["title"]).exists():
            return
        purchase_request = intake_services.create_request(
            by=rita,
            fields=fields,
            line_items=[
                {"description": d, "quantity": Decimal(q), "unit_price": Decimal(p)}
                for d, q, p in lines
            ],
        )
        purchase_request = workflow.submit_request(purchase_request, by=rita)
        for reviewer in approve_by:
            for step in purchase_request.steps.filter(state="open"):
                if step.group and reviewer.groups.filter(pk=step.group_id).exists():
                    decide_step(step, by=reviewer, decision="approve", comment="Fits the plan.")

    def _renewals(self, paul, microsoft, today):
        """A contract whose renewal falls due today (notice deadline in 90 days), drafted by the
        schedule as beat would; and the Atlassian contract, whose notice deadline passed
        without a decision, so the renewals page flags it."""
        Contract.objects.get_or_create(
            vendor=microsoft,
            title="Microsoft 365 E3",
            defaults={
                "starts_on": today - timedelta(days=215),
                "ends_on": today + timedelta(days=150),
                "notice_days": 60,
                "annual_value": Decimal("13800.00"),
                "seats": 50,
                "owner": paul,
            },
        )
        services.create_due_renewals(today)
        atlassian = Contract.objects.filter(title="Atlassian Cloud Premium").first()
        if atlassian is not None:
            services.create_renewal(atlassian)


DEMO_USERS = ("rita", "ivan", "paul", "fiona")
