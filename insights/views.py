"""The leaders' dashboard and the CSV exports. Thin: policies say who, selectors compute."""

from django.conf import settings
from django.http import HttpResponseBadRequest
from django.shortcuts import render
from django.utils.formats import date_format
from django.utils.http import urlencode

from budgets import fiscal
from budgets import selectors as budget_selectors
from core.query import check_integer_params
from intake.selectors import requests_visible_to

from . import exports, policies, selectors
from .filters import RequestExportFilter
from .forms import DateRangeForm, FigureFilterForm
from .templatetags.insights_format import hours, unit_for

SPEND_TITLES = {
    "category": "Spend per month by category",
    "vendor": "Spend per month by vendor",
    "department": "Spend per month by department",
}


def dashboard(request):
    """Figures for the CIO, the CPO and admins; a reviewer's of their own side (403 for
    requesters). Invalid filters are shown with their errors and the figures unfiltered."""
    scope = policies.scope_for(request.user)
    check_integer_params(request.GET, "department", min_value=1)  # an id: 400 otherwise
    form = FigureFilterForm(request.GET)
    filters = form.filters() if form.is_valid() else selectors.NO_FILTERS
    figures = selectors.figures(scope, filters)
    export_query = urlencode(
        {
            param: request.GET[param]
            for param in ("from", "to", "department")
            if request.GET.get(param) and form.is_valid()
        }
    )
    spend = [
        {"key": key, "title": SPEND_TITLES[key], "spend": figures.spend[key]}
        for key in SPEND_TITLES
    ]
    charts = chart_data(figures)
    fiscal_year = budget_selectors.current_fiscal_year()
    budgets = list(
        budget_selectors.budgets_visible_to(
            request.user, fiscal_year=fiscal_year, department=filters.department
        )
    )
    if budgets:
        charts["budgets"] = budget_chart(budgets)
    context = {
        "budgets": budgets,
        "budget_year": fiscal.label(fiscal_year),
        "form": form,
        "figures": figures,
        "spend_charts": spend,
        "charts": charts,
        "side_time_unit": charts["side-time"]["unit"],
        "decided_steps": sum(side.decided for side in figures.sides),
        "export_query": export_query,
        "base_currency": settings.TANDEM_BASE_CURRENCY,
        "may_export_audit": policies.can_export_audit(request.user).allowed,
    }
    return render(request, "insights/dashboard.html", context)


def budget_chart(budgets) -> dict:
    """Budget against committed and in flight, per department and category: stacked bars of
    committed, in flight and what stays available (an overrun shows as a bar past the budget
    with nothing available)."""
    return {
        "type": "bar",
        "stacked": True,
        "labels": [budget.scope_label for budget in budgets],
        "axes": {
            "x": "Department · category",
            "y": f"Amount ({settings.TANDEM_BASE_CURRENCY})",
        },
        "datasets": [
            {"label": "Committed", "data": [float(b.committed) for b in budgets]},
            {"label": "In flight", "data": [float(b.in_flight) for b in budgets]},
            {"label": "Available", "data": [max(float(b.available), 0) for b in budgets]},
        ],
    }


def chart_data(figures: selectors.Figures) -> dict:
    """What static/js/dashboard.js draws, embedded in the page with json_script: each chart's
    labels and series, and its axes' titles with their units (EUR, days), which the script
    shows with a legend on every chart."""
    charts = {}
    for key, spend in figures.spend.items():
        charts[f"spend-{key}"] = {
            "type": "bar",
            "stacked": True,
            "labels": [date_format(month, "M Y") for month in spend.months],
            "axes": {"x": "Month of approval", "y": f"Spend ({settings.TANDEM_BASE_CURRENCY})"},
            "datasets": [
                {"label": series.label, "data": [float(v) for v in series.values]}
                for series in spend.series
            ],
        }
    averages = [
        None if side.average_time is None else hours(side.average_time) for side in figures.sides
    ]
    # One unit for the whole chart, the one that fits its largest bar.
    unit, size = unit_for(max((a for a in averages if a is not None), default=0))
    charts["side-time"] = {
        "type": "bar",
        "stacked": False,
        "unit": unit,
        "labels": [side.label for side in figures.sides],
        "axes": {"x": "Side", "y": f"Average time to decide ({unit})"},
        "datasets": [
            {
                "label": f"Average {unit} to decide",
                "data": [None if a is None else round(a / size, 1) for a in averages],
            },
        ],
    }
    return charts


def export_requests(request):
    """The requests the user may see, with the filters of the requests list (state, category,
    vendor, mine, awaiting=me) and of the dashboard (department, from, to)."""
    filterset = RequestExportFilter(
        request.GET, queryset=requests_visible_to(request.user), request=request
    )
    if not filterset.is_valid():
        return _bad_filters(filterset.form)
    return exports.export_requests(filterset.qs)


def export_audit(request):
    """The audit trail, from and to a date: for admins, the CIO and the CPO only."""
    policies.can_export_audit(request.user).enforce()
    form = DateRangeForm(request.GET)
    if not form.is_valid():
        return _bad_filters(form)
    return exports.export_audit(
        selectors.audit_events(form.cleaned_data["date_from"], form.cleaned_data["date_to"])
    )


def _bad_filters(form) -> HttpResponseBadRequest:
    lines = [f"{param}: {' '.join(errors)}" for param, errors in form.param_errors().items()]
    return HttpResponseBadRequest("\n".join(lines), content_type="text/plain; charset=utf-8")
