"""Approver pages: waiting for me, the leaders' team view, decisions, the rule preview."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.roles import is_reviewer, sees_everything
from core.errors import DomainError
from core.keyset import keyset_page
from intake.selectors import requests_visible_to
from notifications.services import mark_read_for_page

from . import routing, selectors, services
from .forms import AnswerForm, ConsultForm, DecisionForm, PreviewForm
from .models import ApprovalStep, Consultation

PAGE_SIZE = 50
DECISION_SLUGS = {"approve": "approve", "reject": "reject", "request-changes": "request_changes"}
DONE = {"approve": "approved", "reject": "rejected", "request_changes": "sent back for changes"}


def waiting_for_me(request):
    now = timezone.now()
    mark_read_for_page(request.user, request.path)  # e.g. the daily digest points here
    page = keyset_page(selectors.steps_awaiting(request.user), request.GET.get("after"), PAGE_SIZE)
    context = {
        "page": page,
        "now": now,
        "consultations": list(selectors.consultations_awaiting(request.user)[:PAGE_SIZE]),
    }
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


def _form_errors(request, form) -> None:
    for errors in form.errors.values():
        messages.error(request, " ".join(errors))


@require_POST
def consult(request, pk):
    """ "Ask a colleague" on a step the user may decide (SPEC §3, second opinion)."""
    try:
        step = (
            selectors.steps_visible_to(request.user).select_related("request", "vendor").get(pk=pk)
        )
    except ApprovalStep.DoesNotExist:
        raise Http404("No such step.") from None
    form = ConsultForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect(f"{step.subject.get_absolute_url()}#step-{step.pk}")
    try:
        consultation = services.ask_colleague(step, by=request.user, **form.cleaned_data)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except (DomainError, PermissionDenied) as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            f"Your question was sent to {consultation.colleague}; their answer will show here.",
        )
        return redirect(f"{step.subject.get_absolute_url()}#consultation-{consultation.pk}")
    return redirect(f"{step.subject.get_absolute_url()}#step-{step.pk}")


@require_POST
def answer(request, pk):
    """The colleague's answer to a second-opinion question."""
    try:
        consultation = (
            selectors.consultations_visible_to(request.user)
            .select_related("step__request", "step__vendor")
            .get(pk=pk)
        )
    except Consultation.DoesNotExist:
        raise Http404("No such question.") from None
    back = f"{consultation.step.subject.get_absolute_url()}#consultation-{consultation.pk}"
    form = AnswerForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect(back)
    try:
        services.answer_consultation(consultation, by=request.user, **form.cleaned_data)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except (DomainError, PermissionDenied) as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Your answer was sent to {consultation.asked_by}.")
    return redirect(back)


def rule_preview(request):
    if not is_reviewer(request.user):
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
