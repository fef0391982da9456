"""Approver pages: waiting for me, the leaders' team view, decisions, the rule preview."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.roles import ALL_GROUPS, has_role, sees_everything
from core.errors import DomainError
from core.keyset import keyset_page
from intake.selectors import requests_visible_to

from . import evidence, routing, selectors, services
from .forms import DecisionForm, PreviewForm
from .models import ApprovalStep

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
    try:
        services.decide_step(
            step, by=request.user, decision=decision, comment=form.cleaned_data.get("comment", "")
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except (DomainError, PermissionDenied) as error:
        messages.error(request, str(error))
    else:
        label = step.request.number if step.request_id else step.vendor.name
        messages.success(request, f"{label}: {step.reviewer_label} step {DONE[decision]}.")
    return redirect(step.subject)


def rule_preview(request):
    if not (request.user.is_staff or has_role(request.user, *ALL_GROUPS)):
        raise PermissionDenied("Only admins and reviewers preview routing.")
    form = PreviewForm(request.GET or None, requests=requests_visible_to(request.user))
    result = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data.get("request") is not None:
            facts = routing.RequestFacts.of(data["request"])
        else:
            facts = routing.facts_from_draft(data)
        result = routing.plan(facts)
    return render(request, "approvals/rule_preview.html", {"form": form, "result": result})


def evidence_packet(request, pk):
    """The request's evidence packet (ZIP), for whoever may see the request; 404 otherwise."""
    purchase_request = requests_visible_to(request.user).filter(pk=pk).first()
    if purchase_request is None:
        raise Http404
    return zip_response(purchase_request)


def zip_response(purchase_request) -> HttpResponse:
    response = HttpResponse(evidence.build_packet(purchase_request), content_type="application/zip")
    filename = evidence.packet_filename(purchase_request)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
