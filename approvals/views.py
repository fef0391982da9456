"""Approver pages: waiting for me, the leaders' team view, decisions, the rule preview."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from accounts import roles
from accounts.roles import sees_everything
from budgets import views as budget_views
from core.keyset import keyset_page
from core.pages import USER_ERRORS, error_text, perform, show_form_errors
from core.query import integer_param
from intake import policies as intake_policies
from intake.forms import LINE_ITEMS_PREFIX, LineItemFormSet, PurchaseRequestForm
from intake.selectors import requests_visible_to
from intake.views import request_page
from notifications.services import mark_read_for_page

from . import evidence, policies, queue_cache, routing, selectors, services
from .card import RefusedDecision
from .forms import (
    AnswerForm,
    AssignForm,
    ConsultForm,
    DecisionForm,
    PreviewForm,
    QueueFilterForm,
    TeamFilterForm,
)
from .models import ApprovalRule, ApprovalStep, Consultation, Side
from .subjects import subject_of

# Rows per page of the queue and the team view: as the API's page, and what a phone shows
# without endless scrolling; each row is rendered with its people, due time and cost.
PAGE_SIZE = 25
DECISION_SLUGS = {"approve": "approve", "reject": "reject", "request-changes": "request_changes"}
DONE = {"approve": "approved", "reject": "rejected", "request_changes": "sent back for changes"}


@queue_cache.kept_page
def waiting_for_me(request):
    # e.g. the daily digest points here. A page served as kept needs none: nothing was written
    # since it was worked out (notifications included), so nothing unread points here.
    # The team view's stage is a number: anything else is a 400, not an ignored filter.
    integer_param(request.GET, "team_stage", min_value=1, max_value=99)
    mark_read_for_page(request.user, request.path)
    now = timezone.now()
    form = QueueFilterForm(request.GET)
    steps, keyset = _queue(request.user, form, now)
    held, steps = selectors.held_first(request.user, steps)
    page = keyset_page(steps, request.GET.get("after"), PAGE_SIZE, keyset)
    prefetch_related_objects([*held, *page.rows], *selectors.QUEUE_ROW_RELATIONS)
    context = {
        "held": held,
        "page": page,
        "now": now,
        "filter_form": form,
        "queue": form.query(),
        "filtered": bool(form.query()),
        "consultations": list(selectors.consultations_awaiting(request.user)[:PAGE_SIZE]),
    }
    if sees_everything(request.user):
        team_form = TeamFilterForm(request.GET)
        team = team_form.filters()
        team_page = keyset_page(
            selectors.team_steps(side=team["side"], stage=team["stage"]),
            request.GET.get("team_after"),
            PAGE_SIZE,
        )
        names = selectors.holders(team_page.rows)
        for step in team_page.rows:
            step.holders = names[step.pk]
        context.update(
            team_page=team_page,
            team_form=team_form,
            team_filters=team,
            team_side_label=Side(team["side"]).label if team["side"] else "",
            breakdown=selectors.team_breakdown(now),
            ageing=selectors.ageing(now),
        )
    return render(request, "approvals/waiting_for_me.html", context)


def _queue(user, form: QueueFilterForm, now):
    """The user's queue with the form's filters and order, and the keyset that pages it."""
    steps = selectors.filter_queue(selectors.steps_awaiting(user), now=now, **form.filters())
    return selectors.sort_queue(steps, form.ordering())


def next_in_queue(request):
    """ "Next in your queue" on a request or vendor page opened from "Waiting for me": the
    page of the queue's next step (the same filters and order), leaving out the subject just
    seen; the queue itself, with its filters, when nothing else waits."""
    query = QueryDict(request.GET.get("queue", "")[:500])
    form = QueueFilterForm(query)
    steps, _ = _queue(request.user, form, timezone.now())
    seen = request.GET.get("seen", "")
    kind, _, pk = seen.partition(":")
    if pk.isdigit() and len(pk) < 12 and kind in ("request", "vendor"):
        steps = steps.exclude(**{f"{kind}_id": int(pk)})
    following = selectors.next_held_first(request.user, steps)
    queue = form.query()
    if following is None:
        messages.info(request, "Nothing else waits for you in this queue.")
        return redirect(reverse("approvals:waiting-for-me") + (f"?{queue}" if queue else ""))
    return redirect(f"{following.subject.get_absolute_url()}?{urlencode({'queue': queue})}#steps")


def queue_neighbour(request):
    """j and k on a request page (its "Previous" and "Next in your queue"): the subject before
    or after `from` (request:<id> or vendor:<id>) in the reader's queue, with the queue's
    filters and order (`queue`); the queue itself when nothing else waits."""
    form = QueueFilterForm(QueryDict(request.GET.get("queue", "")[:500]))
    steps = selectors.filter_queue(
        selectors.steps_awaiting(request.user), now=timezone.now(), **form.filters()
    )
    kind, _, pk = request.GET.get("from", "").partition(":")
    if not (pk.isdigit() and len(pk) < 12 and kind in ("request", "vendor")):
        kind, pk = "request", "0"  # from nowhere: the queue's first (or last) subject
    following = selectors.queue_neighbour(
        request.user,
        steps,
        form.ordering(),
        kind=kind,
        pk=int(pk),
        forward=request.GET.get("to") != "previous",
    )
    queue = form.query()
    if following is None:
        messages.info(request, "Nothing else waits for you in this queue.")
        return redirect(reverse("approvals:waiting-for-me") + (f"?{queue}" if queue else ""))
    # A request page leads with its decision card; a vendor's review is decided in its steps.
    anchor = "#steps" if following.vendor_id else ""
    return redirect(f"{following.subject.get_absolute_url()}?{urlencode({'queue': queue})}{anchor}")


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
    label = subject_of(step).short_label
    # What is wrong with the comment (too long, or no reason to reject) is said at its box;
    # any other refusal (four eyes, a decision lost to a colleague's) as a message.
    refusal = None if form.is_valid() else " ".join(form.errors["comment"])
    if refusal is None:
        try:
            services.decide_step(
                step, by=request.user, decision=decision, comment=form.cleaned_data["comment"]
            )
        except ValidationError as error:
            refusal = error_text(error)
        except USER_ERRORS as error:
            messages.error(request, error_text(error))
        else:
            messages.success(request, f"{label}: {step.reviewer_label} step {DONE[decision]}.")
    if refusal is not None and step.request_id:
        comment = request.POST.get("comment", "")
        refused = RefusedDecision(step.pk, decision, comment, refusal)
        return request_page(request, step.request_id, refused=refused)
    if refusal is not None:
        messages.error(request, refusal)
    if "queue" in request.POST:  # still in the queue: the page keeps the way back and onward
        query = urlencode({"queue": request.POST["queue"][:500]})
        return redirect(f"{step.subject.get_absolute_url()}?{query}#steps")
    return redirect(step.subject)


def approvers_preview(request):
    """The request form's live "approvers will be…" (htmx): the routing of the form as it is
    now, unsaved, under today's rules, with the people who would decide each step and when they
    are expected to (selectors.expected_route). Fields not filled in yet match no condition.
    Editing a request sent back, it also says what resubmitting would restart
    (selectors.resubmit_effect), in the place kept for it beside the submit button."""
    # The form posts itself (htmx, text fields left out): a long form would not fit a URL.
    data = request.POST if request.method == "POST" else request.GET
    form = PurchaseRequestForm(data)
    formset = LineItemFormSet(data, prefix=LINE_ITEMS_PREFIX)
    form.is_valid()
    formset.is_valid()
    draft = form.unsaved_request(formset)
    editing = _edited_request(request.user, data)
    budget_shown = budget_views.may_see_form_budget(request, draft)
    result = selectors.rule_preview(purchase_request=draft, with_budget=budget_shown)
    route = selectors.expected_route(
        result,
        category_id=draft.category_id,
        requester_id=editing.requester_id if editing else request.user.pk,
        start=timezone.now(),
    )
    context = {
        "result": result,
        "route": route,
        "staged": [stage for stage in route if stage.number is not None],
        "vendor_review": next((stage for stage in route if stage.number is None), None),
        "draft": draft,
        "budget_shown": budget_shown,
        "base_currency": settings.TANDEM_BASE_CURRENCY,
        "editing": editing,
        "effect": selectors.resubmit_effect(editing, draft, route) if editing else None,
    }
    return render(request, "approvals/_approvers_preview.html", context)


def _edited_request(user, data):
    """The request the form edits (`editing`), when the user may edit it; else None."""
    editing = data.get("editing", "")
    if not (editing.isdigit() and len(editing) < 12):
        return None
    found = requests_visible_to(user).filter(pk=int(editing)).first()
    if found is None or not intake_policies.can_act_as_requester(user, found).allowed:
        return None
    return found


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
        show_form_errors(request, form)
        return redirect(f"{step.subject.get_absolute_url()}#step-{step.pk}")
    consultation = perform(
        request, services.ask_colleague, step, by=request.user, **form.cleaned_data
    )
    if consultation:
        messages.success(
            request,
            f"Your question was sent to {consultation.colleague}; their answer will show here.",
        )
        return redirect(f"{step.subject.get_absolute_url()}#consultation-{consultation.pk}")
    return redirect(f"{step.subject.get_absolute_url()}#step-{step.pk}")


def _visible_step(request, pk) -> ApprovalStep:
    try:
        return (
            selectors.steps_visible_to(request.user).select_related("request", "vendor").get(pk=pk)
        )
    except ApprovalStep.DoesNotExist:
        raise Http404("No such step.") from None


def _back_to(step: ApprovalStep):
    return redirect(f"{step.subject.get_absolute_url()}#step-{step.pk}")


@require_POST
def take(request, pk):
    """ "I'll take it" on a step the user may decide."""
    step = _visible_step(request, pk)
    perform(
        request,
        services.take_step,
        step,
        by=request.user,
        success=f"{subject_of(step).short_label}: the {step.reviewer_label} step is yours now; "
        "it shows first in Waiting for me.",
    )
    return _back_to(step)


@require_POST
def release(request, pk):
    step = _visible_step(request, pk)
    perform(
        request,
        services.release_step,
        step,
        by=request.user,
        success=f"{subject_of(step).short_label}: the {step.reviewer_label} step is open to "
        "the whole group again.",
    )
    return _back_to(step)


@require_POST
def assign(request, pk):
    """ "Hand to…" a colleague who may decide the step."""
    step = _visible_step(request, pk)
    form = AssignForm(request.POST)
    if not form.is_valid():
        show_form_errors(request, form)
        return _back_to(step)
    to = form.cleaned_data["to"]
    perform(
        request,
        services.assign_step,
        step,
        by=request.user,
        to=to,
        success=f"{subject_of(step).short_label}: the {step.reviewer_label} step is handed to "
        f"{to}; they are told.",
    )
    return _back_to(step)


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
        show_form_errors(request, form)
        return redirect(back)
    perform(
        request,
        services.answer_consultation,
        consultation,
        by=request.user,
        success=f"Your answer was sent to {consultation.asked_by}.",
        **form.cleaned_data,
    )
    return redirect(back)


def rule_preview(request):
    policies.can_preview_rules(request.user).enforce()
    query, rule = request.GET, None
    rule_id = integer_param(request.GET, "rule", min_value=1)
    if roles.is_admin(request.user) and rule_id is not None:
        rule = ApprovalRule.objects.filter(pk=rule_id).first()
        if rule is not None:
            query = routing.preview_query_for(rule)
    form = PreviewForm(query or None, requests=requests_visible_to(request.user))
    result = None
    if form.is_bound and form.is_valid():
        data, purchase_request = form.cleaned_data, form.cleaned_data.get("request")
        result = selectors.rule_preview(
            purchase_request=purchase_request, draft=data, viewer=request.user
        )
    warnings = selectors.four_eyes_warnings(result) if result else []
    context = {"form": form, "result": result, "rule": rule, "warnings": warnings}
    return render(request, "approvals/rule_preview.html", context)


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
