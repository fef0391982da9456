"""The CIO's dashboard in a real browser: the demo organisation (seed_demo) plus a year of
decided requests, signed in as the demo CIO. Chart.js must have drawn every chart (from the
page's json_script data, by static/js/dashboard.js) with no script error and no
Content-Security-Policy violation, each with a visible legend and axis titles that name their
units; screenshots land in test-results/."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts import roles
from accounts.models import Department, User
from approvals.models import ApprovalStep, Side, StepState
from intake.management.commands.seed_demo import DEMO_PASSWORD
from intake.models import Category, PurchaseRequest, State
from vendors.models import Vendor

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

# seed_demo sets budgets for Marketing and Sales: their chart is drawn too.
CHARTS = ["side-time", "spend-category", "spend-vendor", "spend-department", "budgets"]
# Each chart's value axis names its unit (issue 29, item 11).
AXIS_Y = {
    "side-time": "Average time to decide (hours)",
    "spend-category": "Spend (EUR)",
    "spend-vendor": "Spend (EUR)",
    "spend-department": "Spend (EUR)",
    "budgets": "Amount (EUR)",
}


def a_year_of_decisions():
    """Demo-like history: approved, ordered and rejected requests of the demo requester over the
    last twelve months, across the demo vendors, categories and departments, with the steps
    IT and procurement decided."""
    now = timezone.now()
    rita = User.objects.get(username="rita")
    vendors = list(Vendor.objects.order_by("name"))
    categories = list(Category.objects.filter(slug__in=["saas-subscription", "hardware"]))
    departments = list(Department.objects.order_by("cost_centre"))
    states = [State.APPROVED, State.ORDERED, State.CLOSED, State.REJECTED]
    it = Group.objects.get(name=roles.IT_REVIEWERS)
    procurement = Group.objects.get(name=roles.PROCUREMENT)
    for i in range(24):
        decided = now - timedelta(days=15 * i + 1)
        submitted = decided - timedelta(days=1 + i % 6, hours=i)
        request = PurchaseRequest.objects.create(
            number=f"PR-2025-{i + 1:05d}",
            requester=rita,
            title=f"Demo purchase {i + 1}",
            category=categories[i % len(categories)],
            department=departments[i % len(departments)],
            vendor=vendors[i % len(vendors)],
            total_cost=Decimal(1500 + 750 * (i % 7)),
            total_cost_base=Decimal(1500 + 750 * (i % 7)),
            state=states[i % len(states)],
        )
        PurchaseRequest.objects.filter(pk=request.pk).update(
            submitted_at=submitted, decided_at=decided
        )
        for side, group, hours in [(Side.IT, it, 20), (Side.PROCUREMENT, procurement, 30)]:
            opened = submitted + timedelta(hours=1)
            ApprovalStep.objects.create(
                request=request,
                side=side,
                group=group,
                rule_name="demo",
                state=StepState.APPROVED,
                sla_hours=48,
                repeat_every_hours=24,
                escalate_after_hours=96,
                opened_at=opened,
                due_at=opened + timedelta(hours=48),
                decided_at=opened + timedelta(hours=hours + i),
            )


def test_the_cio_sees_the_dashboard_charts(live_server, page: Page, sign_in, request):
    call_command("seed_demo", verbosity=0)
    a_year_of_decisions()
    problems = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    # A CSP violation is reported on the console ("Refused to execute inline script...");
    # failed downloads are checked by their response, where the address is known.
    page.on(
        "console",
        lambda message: (
            message.type == "error"
            and not message.text.startswith("Failed to load resource")
            and problems.append(f"console: {message.text}")
        ),
    )
    page.on(
        "response",
        lambda response: (
            response.status >= 400
            and not response.url.endswith("/favicon.ico")
            and problems.append(f"{response.status}: {response.url}")
        ),
    )

    sign_in(User.objects.get(username="cora"), password=DEMO_PASSWORD)
    page.get_by_role("link", name="Insights").click()
    expect(page.get_by_role("heading", name="Insights", exact=True)).to_be_visible()
    # 18 of the 24 decided above, plus seed_demo's approved 30,000 EUR request and its
    # Sales CRM request (approved by Ivan and Paul): 20 of 26.
    expect(page.locator('[data-figure="approval-rate"] [data-value]')).to_have_text("76.9 %")

    for key in CHARTS:
        canvas = page.locator(f'canvas[data-chart="{key}"]')
        canvas.scroll_into_view_if_needed()
        box = canvas.bounding_box()
        assert box and box["width"] > 0 and box["height"] > 0, key
        assert canvas.evaluate("c => Chart.getChart(c) !== undefined"), key
        datasets = canvas.evaluate("c => Chart.getChart(c).data.datasets.length")
        assert datasets >= 1, key
        expect(page.locator(f"#table-{key}")).to_be_attached()
        legend, x_title, y_title = canvas.evaluate(
            """c => {
                const chart = Chart.getChart(c);
                const scales = chart.options.scales;
                return [
                    {shown: chart.options.plugins.legend.display,
                     items: chart.legend.legendItems.length, height: chart.legend.height},
                    scales.x.title.display && scales.x.title.text,
                    scales.y.title.display && scales.y.title.text,
                ];
            }"""
        )
        assert legend["shown"] and legend["items"] >= 1 and legend["height"] > 0, (key, legend)
        assert x_title, key
        assert y_title == AXIS_Y[key], (key, y_title)
    spend = page.locator('canvas[data-chart="spend-vendor"]')
    assert spend.evaluate("c => Chart.getChart(c).data.labels.length") == 12

    results = request.config.rootpath / "test-results"
    results.mkdir(exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=results / "insights-dashboard.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    # Chart.js redraws on resize: wait until the chart has taken the phone's width.
    page.wait_for_function(
        """() => {
            const box = document.querySelector('canvas[data-chart="spend-category"]')
                .getBoundingClientRect();
            return box.width > 0 && box.width <= 390;
        }"""
    )
    page.screenshot(path=results / "insights-dashboard-phone.png", full_page=True)
    assert problems == []
