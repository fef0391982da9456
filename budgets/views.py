"""Budget and renewal pages: the Budgets page, the intake form's budget panel, the renewals
list and the CSV import of a year's budgets. Thin: policies say who, selectors and services do
the work."""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from core.query import integer_param, page_number
from intake.forms import LINE_ITEMS_PREFIX, LineItemFormSet, PurchaseRequestForm
from intake.selectors import requests_of, requests_visible_to

from . import fiscal, policies, selectors, services
from .forms import BudgetImportForm

PAGE_SIZE = 50


def may_see_form_budget(request, draft) -> bool:
    """Whether the request form's panels may show the budget of the department the form names
    (policies.can_see_budget). `editing` is the id of the request the form edits: the
    requester's own request adds its department while they edit it (once submitted)."""
    data = request.POST if request.method == "POST" else request.GET
    editing = data.get("editing", "")
    purchase_request = None
    if editing.isdigit() and len(editing) < 12:
        purchase_request = requests_of(request.user).filter(pk=int(editing)).first()
    verdict = policies.can_see_budget(
        request.user, draft.department_id, purchase_request=purchase_request
    )
    return verdict.allowed


def budget_overview(request):
    """A fiscal year's budgets per department: allocated, committed, spent, in review and
    available, each department's burn-down, and the requests in review or approved that take a
    budget over. Whose budgets: policies.budget_sight, through the selector."""
    policies.can_view_budgets(request.user).enforce()
    current = selectors.current_fiscal_year()
    year = integer_param(request.GET, "year", default=current, min_value=2000, max_value=2100)
    budgets = list(selectors.budgets_visible_to(request.user, fiscal_year=year, spent=True))
    overruns, more_overruns = selectors.requests_over_budget(request.user, budgets, year)
    years = sorted({*selectors.fiscal_years_of_budgets(request.user), current, year}, reverse=True)
    context = {
        "year": year,
        "year_label": fiscal.label(year),
        "years": [(each, fiscal.label(each)) for each in years],
        "departments": selectors.by_department(budgets),
        "overruns": overruns,
        "more_overruns": more_overruns,
        "overruns_listed": selectors.OVERRUNS_LISTED,
        # Who sees every budget sees every submitted request (policies.budget_sight): the list
        # of overruns is whole for them; others see those they may open.
        "every_overrun_listed": policies.budget_sight(request.user).every,
        "may_import": policies.can_import_budgets(request.user).allowed,
        "base_currency": settings.TANDEM_BASE_CURRENCY,
    }
    return render(request, "budgets/overview.html", context)


def intake_panel(request):
    """The request form's live budget panel (htmx): the department's budget, what this request
    takes and what stays available, from the form as it is now (unsaved). For a department
    whose budget the user may not see, a note that says so, and no figure: not even whether
    it has a budget."""
    data = request.POST if request.method == "POST" else request.GET
    form = PurchaseRequestForm(data)
    formset = LineItemFormSet(data, prefix=LINE_ITEMS_PREFIX)
    form.is_valid()
    formset.is_valid()
    draft = form.unsaved_request(formset)
    shown = bool(draft.department_id) and may_see_form_budget(request, draft)
    check = services.check_request(draft) if shown else None
    context = {
        "draft": draft,
        "shown": shown,
        "refused": policies.BUDGET_REFUSED,
        "check": check,
        "base_currency": settings.TANDEM_BASE_CURRENCY,
        "year_of_start": fiscal.label(fiscal.fiscal_year_of(draft.needed_by))
        if draft.needed_by
        else None,
    }
    return render(request, "budgets/_intake_panel.html", context)


def renewals(request):
    """Upcoming notice deadlines with the state of their renewal request, in words; a deadline
    passed without a decision is flagged."""
    policies.can_view_renewals(request.user).enforce()
    today = timezone.localdate()
    page = Paginator(selectors.renewals_visible_to(request.user), PAGE_SIZE).get_page(
        page_number(request.GET)
    )
    renewals_shown = list(page.object_list)
    # A draft is its owner's until submitted: link only the requests this reader may open.
    visible = set(
        requests_visible_to(request.user)
        .filter(pk__in=[r.request_id for r in renewals_shown if r.request_id])
        .values_list("pk", flat=True)
    )
    rows = [
        {
            "renewal": renewal,
            "may_open": renewal.request_id in visible,
            "contract": renewal.contract,
            "deadline": renewal.contract.notice_date,
            "status": selectors.renewal_status(renewal, today),
            "missed": selectors.deadline_missed(renewal, today),
        }
        for renewal in renewals_shown
    ]
    context = {
        "page": page,
        "rows": rows,
        "lead_days": settings.TANDEM_RENEWAL_LEAD_DAYS,
        "escalate_days": settings.TANDEM_RENEWAL_ESCALATE_DAYS,
    }
    return render(request, "budgets/renewals.html", context)


def budget_import(request):
    """Finance and admins load a year's budgets from a CSV file: every row or none, with the
    error of each refused row."""
    policies.can_import_budgets(request.user).enforce()
    form = BudgetImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        result = services.import_budgets(
            form.cleaned_data["text"], fiscal_year=form.cleaned_data["fiscal_year"], by=request.user
        )
        if not result.errors:
            messages.success(
                request,
                f"Imported the budgets of {fiscal.label(form.cleaned_data['fiscal_year'])}: "
                f"{result.created} new, {result.updated} changed.",
            )
            # To the year just imported, on the Budgets page.
            return redirect(f"{reverse('budgets:list')}?year={form.cleaned_data['fiscal_year']}")
    context = {"form": form, "result": result, "columns": services.CSV_COLUMNS}
    return render(request, "budgets/import.html", context)
