"""Loads the demo organisation: one user per role, departments, vendors and a few requests.
Safe to run again: everything is looked up before it is created."""

from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone

from accounts import roles
from accounts.models import Department, User
from approvals import rule_versions, workflow
from approvals import selectors as approval_selectors
from approvals import services as approval_services
from approvals.models import (
    NEW_VENDOR,
    ApprovalRule,
    ApprovalStep,
    Consultation,
    RuleKind,
    Side,
    StepKind,
    StepState,
)
from approvals.services import decide_step
from audit.sealer import seal_pending
from calendars.models import GroupCalendar, WorkCalendar
from calendars.selectors import working_hours_by_group
from core.working_hours import add_working_time
from intake import services
from intake.models import Category, PurchaseRequest
from vendors.models import Certificate, Contract, RiskTier, Vendor, VendorStatus

DEMO_PASSWORD = "tandem-demo"
OVERDUE_DEMO_TITLE = "Atlassian Confluence for the sales team"
CONSULTED_DEMO_TITLE = "Miro whiteboards for the marketing team"
TO_ORDER_DEMO_TITLE = "Microsoft Dynamics 365 Sales for the sales team"
CARRIED_OVER_DEMO_TITLE = "Jira Service Management for the IT help desk"

DEPARTMENTS = [
    ("Marketing", "CC-100"),
    ("Information Technology", "CC-200"),
    ("Procurement", "CC-300"),
    ("Finance", "CC-400"),
    ("Sales", "CC-500"),
]

# username, full name, role group (None: a plain requester), department cost centre, is admin
USERS = [
    ("rita", "Rita Requester", None, "CC-100", False),
    ("ivan", "Ivan IT-Reviewer", roles.IT_REVIEWERS, "CC-200", False),
    ("cora", "Cora CIO", roles.CIO, "CC-200", False),
    ("paul", "Paul Procurement", roles.PROCUREMENT, "CC-300", False),
    ("cleo", "Cleo CPO", roles.CPO, "CC-300", False),
    ("fiona", "Fiona Finance", roles.FINANCE, "CC-400", False),
    ("admin", "Ada Admin", None, "CC-200", True),
    # A second admin: a change to the routing rules needs one who did not draft it (four eyes).
    ("alex", "Alex Admin", None, "CC-200", True),
]

VENDORS = [
    ("Microsoft", "https://www.microsoft.com", "US", VendorStatus.APPROVED, RiskTier.LOW),
    ("Atlassian", "https://www.atlassian.com", "AU", VendorStatus.APPROVED, RiskTier.LOW),
    ("Dell Technologies", "https://www.dell.com", "US", VendorStatus.APPROVED, RiskTier.LOW),
    ("Miro", "https://miro.com", "NL", VendorStatus.APPROVED_WITH_CONDITIONS, RiskTier.MEDIUM),
    (
        "Northwind Cloud",
        "https://northwind.example",
        "DE",
        VendorStatus.UNDER_REVIEW,
        RiskTier.HIGH,
    ),
]


class Command(BaseCommand):
    help = "Loads the demo organisation (idempotent) and prints the demo users and password."

    # No outer transaction: submitting a request is a user action with its own durable
    # transaction; every step here is idempotent, so a second run completes a first that failed.
    def handle(self, *args, **options):
        departments = {
            code: Department.objects.get_or_create(cost_centre=code, defaults={"name": name})[0]
            for name, code in DEPARTMENTS
        }
        users = {}
        for username, full_name, group, code, is_admin in USERS:
            first, last = full_name.split(" ", 1)
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "email": f"{username}@tandem.example",
                    "department": departments[code],
                    "time_zone": "Europe/Berlin",
                    "is_staff": is_admin,
                    "is_superuser": is_admin,
                },
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
            if group:
                user.groups.add(Group.objects.get(name=group))
            users[username] = user
        vendors = {}
        for name, website, country, status, tier in VENDORS:
            vendors[name] = Vendor.objects.filter(
                name__iexact=name
            ).first() or Vendor.objects.create(
                name=name, website=website, country=country, status=status, risk_tier=tier
            )
        self._demo_rules()
        # The demo's requests are routed under a version that has the demo's rules.
        rule_versions.record_version(by=None, reason="The demo organisation's rules")
        self._demo_calendar()
        self._demo_vendor_records(vendors, owner=users["paul"], uploader=users["ivan"])
        self._demo_requests(users["rita"], vendors)
        self._demo_consultation(asked_by=users["ivan"], colleague=users["cora"])
        self._demo_pipeline(users, vendors)
        call_command("seed_budgets", stdout=self.stdout)
        # The demo's history is chained before the command ends, not when a worker first runs.
        seal_pending()
        self._print_users()

    def _demo_vendor_records(self, vendors, *, owner, uploader):
        """A certificate about to expire and a contract in its notice period, so the scheduled
        notices and the vendor pages have something to show."""
        today = timezone.localdate()
        Certificate.objects.get_or_create(
            vendor=vendors["Miro"],
            kind="soc2_type2",
            defaults={
                "issuer": "Example Assurance LLP",
                "issued_on": today - timedelta(days=345),
                "expires_on": today + timedelta(days=20),
                "uploaded_by": uploader,
            },
        )
        Contract.objects.get_or_create(
            vendor=vendors["Atlassian"],
            title="Atlassian Cloud Premium",
            defaults={
                "starts_on": today - timedelta(days=300),
                "ends_on": today + timedelta(days=65),
                "auto_renew": True,
                "notice_days": 90,
                "annual_value": Decimal("18500.00"),
                "owner": owner,
            },
        )

    def _demo_rules(self):
        group = {g.name: g for g in Group.objects.all()}
        rules = [
            {
                "name": "Security review of personal data",
                "personal_data": True,
                "reviewer_group": group[roles.IT_REVIEWERS],
                "side": Side.IT,
                "stage": 1,
                "escalation_group": group[roles.CIO],
            },
            {
                "name": "Vendor due diligence for vendors not approved yet",
                "vendor_statuses": [NEW_VENDOR, "prospective", "under_review"],
                "reviewer_group": group[roles.PROCUREMENT],
                "side": Side.PROCUREMENT,
                "stage": 1,
                "escalation_group": group[roles.CPO],
            },
            {
                "name": "CIO sign-off from 25,000 EUR",
                "min_total": Decimal("25000"),
                "reviewer_group": group[roles.CIO],
                "side": Side.IT,
                "stage": 2,
            },
            {
                "name": "CPO sign-off from 25,000 EUR",
                "min_total": Decimal("25000"),
                "reviewer_group": group[roles.CPO],
                "side": Side.PROCUREMENT,
                "stage": 2,
            },
            {
                "name": "Finance sign-off from 100,000 EUR",
                "min_total": Decimal("100000"),
                "reviewer_group": group[roles.FINANCE],
                "side": Side.FINANCE,
                "stage": 3,
            },
            {
                "name": "Catalog hardware from approved vendors under 2,000 EUR",
                "kind": RuleKind.AUTO_APPROVE,
                "max_total": Decimal("2000"),
                "vendor_statuses": ["approved"],
                "categories": [Category.objects.get(slug="hardware")],
            },
        ]
        for fields in rules:
            categories = fields.pop("categories", [])
            rule, created = ApprovalRule.objects.get_or_create(
                name=fields.pop("name"), defaults=fields
            )
            if created and categories:
                rule.categories.set(categories)

    def _demo_requests(self, rita, vendors):
        today = timezone.localdate()
        saas = Category.objects.get(slug="saas-subscription")
        hardware = Category.objects.get(slug="hardware")
        demo = [
            (
                {
                    "title": CONSULTED_DEMO_TITLE,
                    "description": "Online whiteboards for campaign planning with agencies.",
                    "business_justification": "Replaces ad-hoc tools; agencies already use Miro.",
                    "expected_benefit": "Faster campaign planning.",
                    "category": saas,
                    "vendor": vendors["Miro"],
                    "billing": "annual",
                    "term_months": 24,
                    "needed_by": today + timedelta(days=30),
                    "data_classification": "internal",
                    "handles_personal_data": False,
                },
                [
                    {
                        "description": "Miro Business seat",
                        "quantity": Decimal(15),
                        "unit_price": Decimal("96.00"),
                    }
                ],
                True,
            ),
            (
                {
                    "title": "Laptops for two new designers",
                    "description": "Two 16-inch laptops with colour-accurate screens.",
                    "category": hardware,
                    "vendor": vendors["Dell Technologies"],
                    "billing": "one_off",
                    "needed_by": today + timedelta(days=45),
                    "data_classification": "internal",
                },
                [
                    {
                        "description": "Dell XPS 16",
                        "quantity": Decimal(2),
                        "unit_price": Decimal("2450.00"),
                    }
                ],
                False,
            ),
            (
                {
                    "title": OVERDUE_DEMO_TITLE,
                    "description": "A shared knowledge base for 40 sales colleagues.",
                    "business_justification": "Sales playbooks live in scattered documents.",
                    "category": saas,
                    "vendor": vendors["Atlassian"],
                    "billing": "monthly",
                    "term_months": 12,
                    "needed_by": today + timedelta(days=14),
                    "data_classification": "internal",
                    "handles_personal_data": False,
                },
                [
                    {
                        "description": "Confluence Standard seat",
                        "quantity": Decimal(40),
                        "unit_price": Decimal("6.05"),
                    }
                ],
                True,
            ),
        ]
        for fields, line_items, submit in demo:
            if PurchaseRequest.objects.filter(requester=rita, title=fields["title"]).exists():
                continue
            purchase_request = services.create_request(
                by=rita, fields=fields, line_items=line_items
            )
            if submit:
                workflow.submit_request(purchase_request, by=rita)
        self._make_overdue(OVERDUE_DEMO_TITLE, days=3)

    def _demo_calendar(self):
        """The demo organisation works Monday to Friday, 9 to 17 in Berlin, with Berlin's public
        holidays: every role group works by this calendar."""
        calendar, _ = WorkCalendar.objects.get_or_create(
            name="Berlin office",
            defaults={
                "time_zone": "Europe/Berlin",
                "holiday_country": "DE",
                "holiday_region": "BE",
            },
        )
        for group in Group.objects.filter(name__in=roles.ALL_GROUPS):
            GroupCalendar.objects.get_or_create(group=group, defaults={"calendar": calendar})

    def _demo_consultation(self, *, asked_by, colleague):
        """An open second opinion: Ivan, deciding the IT step of the Miro request, asks Cora a
        question she has not answered yet (it is under her Waiting for me)."""
        if Consultation.objects.filter(step__request__title=CONSULTED_DEMO_TITLE).exists():
            return
        step = (
            approval_selectors.steps_awaiting(asked_by)
            .filter(request__title=CONSULTED_DEMO_TITLE)
            .first()
        )
        if step is None:
            return
        approval_services.ask_colleague(
            step,
            by=asked_by,
            colleague=colleague,
            question="Agencies will upload campaign drafts to Miro: is its EU data residency "
            "enough for us, or do we need the Enterprise plan?",
        )

    def _demo_pipeline(self, users, vendors):
        """A 30,000 EUR request approved by both teams and waiting for Paul to order it, and a
        request resubmitted without a material change whose IT approval carried over."""
        today = timezone.localdate()
        saas = Category.objects.get(slug="saas-subscription")
        rita = users["rita"]
        if not PurchaseRequest.objects.filter(requester=rita, title=TO_ORDER_DEMO_TITLE).exists():
            purchase_request = services.create_request(
                by=rita,
                fields={
                    "title": TO_ORDER_DEMO_TITLE,
                    "description": "CRM seats for 25 account managers, with customer contacts.",
                    "business_justification": "Replaces spreadsheets; forecasts become reliable.",
                    "expected_benefit": "Shorter sales cycle.",
                    "category": saas,
                    "vendor": vendors["Microsoft"],
                    "billing": "annual",
                    "term_months": 12,
                    "needed_by": today + timedelta(days=40),
                    "data_classification": "confidential",
                    "handles_personal_data": True,
                },
                line_items=[
                    {
                        "description": "Dynamics 365 Sales Enterprise seat, one year",
                        "quantity": Decimal(25),
                        "unit_price": Decimal("1200.00"),
                    }
                ],
            )
            workflow.submit_request(purchase_request, by=rita)
            for username, group, comment in (
                ("ivan", roles.IT_REVIEWERS, "Security review done: DPA and SSO in place."),
                ("paul", roles.PROCUREMENT, "Enterprise agreement prices apply."),
                ("cora", roles.CIO, ""),
                ("cleo", roles.CPO, ""),
            ):
                step = purchase_request.steps.get(
                    kind=StepKind.REVIEW, group__name=group, state=StepState.OPEN
                )
                decide_step(step, by=users[username], decision="approve", comment=comment)
        if not PurchaseRequest.objects.filter(
            requester=rita, title=CARRIED_OVER_DEMO_TITLE
        ).exists():
            purchase_request = services.create_request(
                by=rita,
                fields={
                    "title": CARRIED_OVER_DEMO_TITLE,
                    "description": "Ticketing for the IT help desk, replacing the shared inbox.",
                    "business_justification": "Requests get lost in the shared inbox.",
                    "category": saas,
                    "vendor": vendors["Atlassian"],
                    "billing": "monthly",
                    "term_months": 12,
                    "needed_by": today + timedelta(days=30),
                    "data_classification": "internal",
                    "handles_personal_data": False,
                },
                line_items=[
                    {
                        "description": "Jira Service Management agent",
                        "quantity": Decimal(8),
                        "unit_price": Decimal("21.00"),
                    }
                ],
            )
            workflow.submit_request(purchase_request, by=rita)
            steps = purchase_request.steps.filter(kind=StepKind.REVIEW, state=StepState.OPEN)
            decide_step(
                steps.get(side=Side.IT),
                by=users["ivan"],
                decision="approve",
                comment="Fits our Atlassian setup.",
            )
            decide_step(
                steps.get(side=Side.PROCUREMENT),
                by=users["paul"],
                decision="request_changes",
                comment="Attach Atlassian's quote, please.",
            )
            workflow.resubmit_request(purchase_request, by=rita)

    def _make_overdue(self, title, *, days):
        """Demo data: the request's open steps opened at least `days` ago and long enough ago
        in working hours that their SLA has run out, so the reminder sweep reminds (and
        escalates) as soon as Celery beat starts."""
        now = timezone.now()
        steps = ApprovalStep.objects.filter(
            request__title=title, state=StepState.OPEN, alerts__isnull=True
        )
        calendars = working_hours_by_group({step.group_id for step in steps})
        for step in steps:
            hours = calendars[step.group_id]
            opened = now - timedelta(days=days)
            longest = max(step.sla_hours, step.escalate_after_hours)
            while add_working_time(opened, longest, hours) > now:
                opened -= timedelta(days=1)
            due = add_working_time(opened, step.sla_hours, hours)
            ApprovalStep.objects.filter(pk=step.pk).update(
                opened_at=opened,
                due_at=due,
                escalate_at=add_working_time(opened, step.escalate_after_hours, hours),
                next_alert_at=due,
            )

    def _print_users(self):
        self.stdout.write(
            self.style.SUCCESS("Demo organisation ready. Sign in at http://127.0.0.1:8000 as:")
        )
        for username, full_name, group, _, is_admin in USERS:
            role = "admin" if is_admin else roles.group_label(group) if group else "requester"
            self.stdout.write(f"  {username:<8} {DEMO_PASSWORD:<13} {full_name} ({role})")
