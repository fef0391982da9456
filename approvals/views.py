"""Approver pages: waiting for me, the leaders' team view, decisions, the rule preview."""

from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.roles import sees_everything
from core.keyset import keyset_page
from core.pages import perform
from intake.selectors import requests_visible_to

from . import policies, selectors, services
from .forms import DecisionForm, PreviewForm
from .models import ApprovalStep
from .subjects import subject_of

PAGE_SIZE = 50
DECISION_SLUGS = {"approve": "approve", "reject": "reject", "request-changes": "request_changes"}
DONE = {"approve": "approved", "reject": "rejected", "request_changes": "sent back for changes"}


def waiting_for_me(request):
    now = timezone.now()
    page = keyset_page(selectors.steps_awaiting(request.user), request.GET.get("after"), PAGE_SIZE)
    context = {"page": page, "now": now}
    if sees_everything(request.user):
        context["team_page"] = keyset_page(
            selectors.open_steps_for_team(), request.GET.get("team_after"), PAGE_SIZE
        )
        context["ageing"] = selectors.ageing(now)
    return render(request, "approvals/waiting_for_me.html", context)


@require_POST
def decide(request, pk, decision):
    decision = DECISION_SLUGS.get(decision)
    if decision is None:
        raise Http404
    visible = selectors.steps_visible_to(request.user)
    try:
        step = visible.select_related("request", "vendor").get(pk=pk)
    except ApprovalStep.DoesNotExist:
        raise Http404("No such step.") from None
    form = DecisionForm(request.POST)
    form.is_valid()
    label = subject_of(step).short_label
    perform(
        request,
        services.decide_step,
        step,
        by=request.user,
        decision=decision,
        comment=form.cleaned_data.get("comment", ""),
        success=f"{label}: {step.reviewer_label} step {DONE[decision]}.",
    )
    return redirect(step.subject)


def rule_preview(request):
    policies.can_preview_rules(request.user).enforce()
    form = PreviewForm(request.GET or None, requests=requests_visible_to(request.user))
    result = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        result = selectors.rule_preview(purchase_request=data.get("request"), draft=data)
    return render(request, "approvals/rule_preview.html", {"form": form, "result": result})
