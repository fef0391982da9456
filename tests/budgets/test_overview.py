"""The Budgets page (issue #29 item 2): finance, the CIO, the CPO and admins open it from the
navigation, a budget owner sees the budgets the rule lets them see, everyone else is refused
in words; the figures, the burn-down and the requests that take a budget over are those of the
data below, computed by hand; its queries do not grow with the number of budgets and requests."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts import roles
from accounts.models import Delegation
from budgets import fiscal, selectors
from budgets.models import Budget
from intake.models import Category
from tests.factories import DepartmentFactory, PurchaseRequestFactory, UserFactory

pytestmark = pytest.mark.django_db

NAV_LINK = 'class="nav-link" href="/budgets/"'
YEAR = selectors.current_fiscal_year()
FIRST_DAY, _ = fiscal.bounds(YEAR)


@pytest.fixture
def finance(db):
    return UserFactory(username="fiona", first_name="Fiona", last_name="Fink", roles=["finance"])


@pytest.fixture
def marketing(db):
    return DepartmentFactory(name="Marketing", cost_centre="MKT")


@pytest.fixture
def owen(db):
    """Owns Marketing's budget; in Sales, with no role."""
    sales = DepartmentFactory(name="Sales", cost_centre="SLS")
    return UserFactory(username="owen", first_name="Owen", last_name="Owner", department=sales)


@pytest.fixture
def software(db):
    return Category.objects.get_or_create(
        slug="software-licence", defaults={"name": "Software licence"}
    )[0]


def request_for(department, state, total, *, starts=FIRST_DAY, **fields):
    return PurchaseRequestFactory(
        department=department,
        state=state,
        needed_by=starts,
        total_cost=Decimal(total),
        line_items=[("Item", "1", total)],
        **fields,
    )


@pytest.fixture
def books(marketing, owen, finance, software):
    """Marketing in this fiscal year, by hand:

    whole department 10,000 (Owen's): committed 2,000 closed + 1,500 ordered + 4,000 approved
      = 7,500, of it spent 2,000 (closed); in review 3,542; available 10,000 − 7,500 − 3,542
      = −1,042: over by 1,042. Its burn-down: 11,042 of 10,000 used, 110 %.
    software licences 2,500 (Fiona's): committed 2,000 (the closed one) + in review 300 =
      2,300 used (92 %), 200 left: nearly used up.
    Not counted: a draft, a rejected request, one in review next year. IT: 5,000, nothing used.
    Over budget: the approved 4,000 and the two in review (3,242 and the software 300), each
    charged to Marketing, whose department-wide budget is below zero available; the software
    budget is not over, so none of them is said to take it over."""
    whole = Budget.objects.create(
        department=marketing, fiscal_year=YEAR, amount=Decimal("10000"), owner=owen
    )
    licences = Budget.objects.create(
        department=marketing,
        fiscal_year=YEAR,
        category=software,
        amount=Decimal("2500"),
        owner=finance,
    )
    it = DepartmentFactory(name="IT", cost_centre="IT")
    it_budget = Budget.objects.create(
        department=it, fiscal_year=YEAR, amount=Decimal("5000"), owner=finance
    )
    made = {
        "closed": request_for(marketing, "closed", "2000", category=software),
        "ordered": request_for(marketing, "ordered", "1500"),
        "approved": request_for(marketing, "approved", "4000", title="Event platform"),
        "in_review": request_for(marketing, "in_review", "3242", title="Video suite"),
        "in_review_software": request_for(
            marketing, "in_review", "300", category=software, title="Font licences"
        ),
        "draft": request_for(marketing, "draft", "50000"),
        "rejected": request_for(marketing, "rejected", "7000"),
        "next_year": request_for(marketing, "in_review", "9000", starts=fiscal.bounds(YEAR + 1)[0]),
    }
    return {"whole": whole, "licences": licences, "it": it_budget, **made}


def row_of(html, budget):
    match = re.search(rf'<tr data-budget="{budget.pk}".*?</tr>', html, re.S)
    assert match, f"no row for {budget}"
    return match.group(0)


def cell(row, name):
    match = re.search(rf"<t[dh][^>]* {name}>(.*?)</t[dh]>", row, re.S)
    assert match, name
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


@pytest.mark.parametrize("role", [roles.FINANCE, roles.CIO, roles.CPO, "admin"])
def test_finance_the_leaders_and_admins_open_budgets_from_the_navigation(client, role):
    if role == "admin":
        user = UserFactory(username="ada", is_staff=True, is_superuser=True)
    else:
        user = UserFactory(username=f"u-{role}", roles=[role])
    client.force_login(user)
    assert NAV_LINK in client.get("/requests/").content.decode()
    response = client.get("/budgets/")
    assert response.status_code == 200
    assert "<h1" in response.content.decode() and ">Budgets</h1>" in response.content.decode()


@pytest.mark.parametrize("who", ["requester", "it_reviewer", "procurement"])
def test_people_without_a_budget_get_no_link_and_a_page_that_says_why(client, request, who):
    user = request.getfixturevalue(who)
    client.force_login(user)
    assert NAV_LINK not in client.get("/requests/").content.decode()
    response = client.get("/budgets/")
    html = response.content.decode()
    assert response.status_code == 403
    assert "The Budgets page is for finance, the CIO, the CPO, admins and the owners" in html
    assert "The budget of your department is shown on the request form" in html


def test_signed_out_is_sent_to_sign_in(client):
    response = client.get("/budgets/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_budget_owner_sees_the_budgets_the_rule_lets_them_see(client, owen, books):
    client.force_login(owen)
    assert NAV_LINK in client.get("/requests/").content.decode()
    response = client.get("/budgets/")
    html = response.content.decode()
    assert response.status_code == 200
    # Marketing's (theirs), not IT's: budgets.policies.budget_sight.
    assert f'data-budget="{books["whole"].pk}"' in html
    assert f'data-budget="{books["it"].pk}"' not in html
    assert 'data-department="IT"' not in html
    assert "Import budgets" not in html  # finance and admins import


def test_a_delegate_of_finance_has_the_page_while_the_delegation_is_open(client, finance):
    deputy = UserFactory(username="dora")
    client.force_login(deputy)
    assert client.get("/budgets/").status_code == 403
    now = timezone.now()
    Delegation.objects.create(
        delegator=finance,
        delegate=deputy,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=1),
    )
    assert client.get("/budgets/").status_code == 200


def test_the_figures_burn_down_and_states_are_those_computed_by_hand(client, finance, books):
    client.force_login(finance)
    html = client.get("/budgets/").content.decode()

    whole = row_of(html, books["whole"])
    assert cell(whole, "data-allocated") == "10,000.00 EUR"
    assert cell(whole, "data-committed") == "7,500.00 EUR"
    assert cell(whole, "data-spent") == "2,000.00 EUR"
    assert cell(whole, "data-in-review") == "3,542.00 EUR"
    assert cell(whole, "data-available") == "-1,042.00 EUR"
    assert cell(whole, "data-budget-state") == "Over by 1,042.00 EUR"
    assert "Whole department" in whole and "Owen Owner" in whole

    licences = row_of(html, books["licences"])
    assert cell(licences, "data-committed") == "2,000.00 EUR"
    assert cell(licences, "data-in-review") == "300.00 EUR"
    assert cell(licences, "data-available") == "200.00 EUR"
    assert cell(licences, "data-budget-state") == "Nearly used up: 200.00 EUR left"

    it = row_of(html, books["it"])
    assert cell(it, "data-budget-state") == "On track"

    # The burn-down: Marketing's department-wide budget, in words and as a meter.
    marketing = html[html.index('data-department="Marketing"') :]
    marketing = marketing[: marketing.index("</section>")]
    assert "Used 110%: 11,042.00 EUR of 10,000.00 EUR is committed or in review" in marketing
    assert "2,000.00 EUR of it spent" in marketing
    assert re.search(r'<meter class="burn burn-over" min="0" max="100" value="100"', marketing)
    assert "Over by 1,042.00 EUR" in marketing
    assert html.index('data-department="IT"') < html.index('data-department="Marketing"')


def test_the_requests_that_take_a_budget_over_link_to_their_pages(client, finance, books):
    client.force_login(finance)
    html = client.get("/budgets/").content.decode()
    table = html[html.index('id="overrun-requests"') :]
    table = table[: table.index("</table>")]
    listed = re.findall(r'<tr data-number="([^"]+)">', table)
    # In review or approved, charged to Marketing this year; the largest first.
    assert listed == [
        books["approved"].number,
        books["in_review"].number,
        books["in_review_software"].number,
    ]
    for name in ("approved", "in_review", "in_review_software"):
        assert f'href="/requests/{books[name].pk}/"' in table
    assert "Event platform" in table and "4,000.00 EUR" in table
    assert "Marketing: <span" in table and "Over by 1,042.00 EUR" in table
    # Software licences is not over: it is not named as taken over.
    assert "Marketing · Software licence" not in table
    assert "3 requests in review or approved take a budget over" in html


def test_a_category_budget_over_lists_the_requests_of_its_category_only(
    client, finance, marketing, software
):
    whole = Budget.objects.create(
        department=marketing, fiscal_year=YEAR, amount=Decimal("100000"), owner=finance
    )
    licences = Budget.objects.create(
        department=marketing,
        fiscal_year=YEAR,
        category=software,
        amount=Decimal("500"),
        owner=finance,
    )
    fonts = request_for(marketing, "in_review", "600", category=software, title="Fonts")
    request_for(marketing, "in_review", "300", title="Survey tool")  # another category
    client.force_login(finance)
    html = client.get("/budgets/").content.decode()
    assert cell(row_of(html, licences), "data-budget-state") == "Over by 100.00 EUR"
    assert cell(row_of(html, whole), "data-budget-state") == "On track"
    table = html[html.index('id="overrun-requests"') :]
    assert re.findall(r'<tr data-number="([^"]+)">', table) == [fonts.number]
    assert "Marketing · Software licence: <span" in table


def test_nothing_over_budget_says_so(client, finance, marketing):
    Budget.objects.create(
        department=marketing, fiscal_year=YEAR, amount=Decimal("10000"), owner=finance
    )
    request_for(marketing, "in_review", "500")
    client.force_login(finance)
    html = client.get("/budgets/").content.decode()
    assert 'data-empty="overruns"' in html
    assert "Used 5%: 500.00 EUR of 10,000.00 EUR" in html
    assert 'value="5"' in html


def test_a_department_with_category_budgets_only_burns_down_their_sum(
    client, finance, marketing, software
):
    saas = Category.objects.get_or_create(
        slug="saas-subscription", defaults={"name": "SaaS subscription"}
    )[0]
    for category, amount in ((software, "1000"), (saas, "3000")):
        Budget.objects.create(
            department=marketing,
            fiscal_year=YEAR,
            category=category,
            amount=Decimal(amount),
            owner=finance,
        )
    request_for(marketing, "approved", "600", category=software)
    request_for(marketing, "in_review", "400", category=saas)
    client.force_login(finance)
    html = client.get("/budgets/").content.decode()
    assert "Used 25%: 1,000.00 EUR of 4,000.00 EUR is committed or in review" in html
    assert "Its category budgets added up" in html
    assert "Whole department" not in html


def test_the_year_picker_shows_another_year(client, finance, marketing, books):
    Budget.objects.create(
        department=marketing, fiscal_year=YEAR - 1, amount=Decimal("77777"), owner=finance
    )
    client.force_login(finance)
    html = client.get("/budgets/").content.decode()
    assert f'<option value="{YEAR - 1}">{fiscal.label(YEAR - 1)}</option>' in html
    assert f'<option value="{YEAR}" selected>' in html
    assert "77,777.00 EUR" not in html

    html = client.get("/budgets/", {"year": YEAR - 1}).content.decode()
    assert "77,777.00 EUR" in html
    assert f'<option value="{YEAR - 1}" selected>' in html
    assert 'data-empty="overruns"' in html  # last year's budget is not over

    empty = client.get("/budgets/", {"year": 2040}).content.decode()
    assert f"No budget is set for {fiscal.label(2040)}." in empty


@pytest.mark.parametrize("year", ["abc", "2026.5", "1999", "99999999999999999999999"])
def test_a_year_that_is_not_one_is_a_clear_400(client, finance, year):
    client.force_login(finance)
    response = client.get("/budgets/", {"year": year})
    assert response.status_code == 400
    assert "year: Give a whole number" in response.content.decode()


def test_finance_imports_from_the_page_and_comes_back_to_it(client, finance, marketing):
    client.force_login(finance)
    html = client.get("/budgets/").content.decode()
    assert 'href="/budgets/import/"' in html and "Import budgets" in html
    page = client.get("/budgets/import/").content.decode()
    assert 'href="/budgets/"' in page and "Back to Budgets" in page

    upload = SimpleUploadedFile(
        "budgets.csv", b"cost_centre,amount,owner\nMKT,4200,fiona\n", content_type="text/csv"
    )
    response = client.post(
        "/budgets/import/", {"fiscal_year": YEAR + 1, "file": upload}, follow=True
    )
    assert response.redirect_chain[-1][0] == f"/budgets/?year={YEAR + 1}"
    html = response.content.decode()
    assert "Imported the budgets of" in html and "4,200.00 EUR" in html


def test_the_leaders_see_the_page_without_the_import_button(client, cio, books):
    client.force_login(cio)
    html = client.get("/budgets/").content.decode()
    assert "Import budgets" not in html
    assert "Over by 1,042.00 EUR" in html


def test_the_page_s_queries_do_not_grow_with_budgets_and_requests(
    client, finance, software, django_assert_max_num_queries
):
    """Three departments, then twelve, each over budget with requests in review and approved:
    the same number of queries."""
    client.force_login(finance)
    client.get("/budgets/")  # the session and the user's groups, read once

    def add_departments(start, count):
        for n in range(start, start + count):
            department = DepartmentFactory(name=f"Department {n:02d}", cost_centre=f"D{n:02d}")
            Budget.objects.create(
                department=department, fiscal_year=YEAR, amount=Decimal("100"), owner=finance
            )
            Budget.objects.create(
                department=department,
                fiscal_year=YEAR,
                category=software,
                amount=Decimal("50"),
                owner=finance,
            )
            for state in ("in_review", "approved", "closed"):
                request_for(department, state, "80", category=software)

    add_departments(0, 3)
    with django_assert_max_num_queries(QUERIES) as few:
        response = client.get("/budgets/")
    assert response.content.decode().count("<tr data-number=") == 6
    add_departments(3, 9)
    with django_assert_max_num_queries(QUERIES) as many:
        response = client.get("/budgets/")
    html = response.content.decode()
    assert html.count("<tr data-number=") == 24
    assert html.count("<meter ") == 12
    assert len(many.captured_queries) == len(few.captured_queries)


# The session, the user, their groups and delegations; the budgets with their figures, the
# overruns, the fiscal years; the navigation's two badges (steps waiting, unread notifications).
QUERIES = 9
