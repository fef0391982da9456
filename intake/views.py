"""The requester's pages. Thin: forms check input, services write, selectors read."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from approvals import workflow
from approvals.card import RefusedDecision, decision_card
from approvals.selectors import (
    decision_panels,
    earlier_rounds,
    vendor_waits,
    with_waiting_on,
    work_after_approval,
)
from budgets import services as budgets
from core.errors import DomainError
from core.forms import add_service_errors
from core.pages import error_text, perform, show_form_errors
from core.query import check_integer_params, page_number
from notifications.services import mark_read_for_page
from vendors import selectors as vendor_selectors
from vendors.policies import can_rate
from vendors.services import rate_vendor

from . import policies, selectors, services
from .filters import MyRequestsFilter
from .forms import (
    LINE_ITEMS_PREFIX,
    AttachmentForm,
    CloseForm,
    CommentForm,
    DuplicateCheckForm,
    LineItemFormSet,
    MarkOrderedForm,
    PurchaseRequestForm,
    RatingForm,
)
from .models import Attachment, PurchaseRequest, State


def my_requests(request):
    """The requester's own requests, filtered by state, searched and sorted (django-filter);
    a bad filter value shows the whole list with the field's error, never a 5xx."""
    filters = MyRequestsFilter(
        request.GET or None, queryset=with_waiting_on(selectors.requests_of(request.user))
    )
    requests = filters.qs if filters.is_bound and filters.is_valid() else filters.queryset
    page = Paginator(requests, 25).get_page(page_number(request.GET))
    waits = vendor_waits(page.object_list, request.user)
    for pr in page.object_list:
        pr.vendor_wait = waits.get(pr.pk)
    return render(
        request,
        "intake/my_requests.html",
        {"page": page, "filters": filters, "filtered": filters.is_bound and filters.is_filtered},
    )


def request_new(request):
    return _request_form(request, purchase_request=None)


def request_edit(request, pk):
    purchase_request = _visible_or_404(request.user, pk)
    if not policies.can_act_as_requester(request.user, purchase_request):
        raise PermissionDenied("Only the requester or an admin can change this request.")
    if not purchase_request.is_editable:
        messages.error(request, "Only drafts and requests with changes requested can be edited.")
        return redirect(purchase_request)
    if request.method != "POST" and request.GET.get("check"):
        # After a submit that failed: the saved draft with what it still lacks marked.
        errors = services.submission_errors(purchase_request)
        # A budget set to block refuses what takes it over (budgets.services).
        errors.update(
            budgets.submit_blocked_errors(
                budgets.check_request(purchase_request), purchase_request, reader=request.user
            )
        )
        return _render_form(
            request,
            purchase_request,
            PurchaseRequestForm(instance=purchase_request),
            _line_item_formset(purchase_request),
            submission_errors=ValidationError(errors) if errors else None,
        )
    return _request_form(request, purchase_request=purchase_request)


def _edit_and_check(purchase_request):
    """The draft's edit page with what submit still needs marked: the address a failed submit
    leads to, so a reload or a shared link shows the draft, not an empty new form."""
    return redirect(f"{reverse('intake:request-edit', args=[purchase_request.pk])}?check=1")


def request_detail(request, pk):
    return request_page(request, pk)


# The queue a request page was opened from ("Waiting for me"'s filters and order, as a query
# string): as long as the queue's own links allow.
QUEUE_PARAM_LENGTH = 500


def request_page(request, pk, *, refused: RefusedDecision | None = None):
    """The request page. Whoever may decide one of its open steps finds the decision card at
    its top (approvals.card); `refused` is a decision the decide view refused for its comment,
    shown at the card's reason box (status 400), in the page as it is now."""
    purchase_request = _visible_or_404(request.user, pk)
    user = request.user
    mark_read_for_page(user, purchase_request.get_absolute_url())  # the reader is here now
    today = timezone.localdate()
    panels = decision_panels(purchase_request, user)
    queue = request.GET.get("queue", request.POST.get("queue"))
    context = {
        "pr": purchase_request,
        "timeline": selectors.timeline(purchase_request),
        "comment_form": CommentForm(),
        "attachment_form": AttachmentForm(),
        "mark_ordered_form": MarkOrderedForm(initial={"ordered_on": today}),
        "close_form": CloseForm(initial={"received_on": today}),
        "may_act_as_requester": policies.can_act_as_requester(user, purchase_request).allowed,
        "may_mark_ordered": policies.can_mark_ordered(user, purchase_request).allowed,
        "may_close": policies.can_close(user, purchase_request).allowed,
        "step_panels": panels,
        "card": decision_card(purchase_request, user, panels, refused=refused),
        "queue": None if queue is None else queue[:QUEUE_PARAM_LENGTH],
        "work_items": work_after_approval(purchase_request),
        "earlier_rounds": earlier_rounds(purchase_request),
        "duplicates": selectors.duplicates_of_request(user, purchase_request),
        "change_request": selectors.change_request(purchase_request),
        "closing": selectors.closing(purchase_request),
        **_ratings(purchase_request, user),
    }
    if refused is not None and (context["card"] is None or context["card"].refused is None):
        messages.error(request, refused.message)  # no box of the card to show it at
    status = 400 if refused is not None else 200
    return render(request, "intake/request_detail.html", context, status=status)


def _ratings(purchase_request, user) -> dict:
    """A closed request's vendor ratings as given, and the form only for whoever may rate and
    has not yet (one rating per person and request)."""
    if purchase_request.state != State.CLOSED or not purchase_request.vendor_id:
        return {"ratings": [], "rating_form": None}
    ratings = vendor_selectors.ratings_of_request(purchase_request)
    rated = any(rating.rater_id == user.pk for rating in ratings)
    may_rate = not rated and can_rate(user, purchase_request).allowed
    return {"ratings": ratings, "rating_form": RatingForm() if may_rate else None}


@require_POST
def request_transition(request, pk, action):
    """Submit, resubmit, withdraw, mark ordered or close, from the request page's buttons."""
    purchase_request = _visible_or_404(request.user, pk)
    forms = {"mark-ordered": MarkOrderedForm, "close": CloseForm}
    service = {
        "submit": workflow.submit_request,
        "resubmit": workflow.resubmit_request,
        "withdraw": workflow.withdraw_request,
        "mark-ordered": workflow.mark_ordered,
        "close": workflow.close_request,
    }.get(action)
    if service is None:
        raise Http404
    arguments = {}
    if action in forms:
        form = forms[action](request.POST)
        if not form.is_valid():
            for errors in form.errors.values():
                messages.error(request, " ".join(errors))
            return redirect(purchase_request)
        arguments = form.cleaned_data
    try:
        service(purchase_request, by=request.user, **arguments)
    except ValidationError as error:
        if action in ("submit", "resubmit"):
            messages.warning(request, f"{purchase_request.number} is not complete yet.")
            return _edit_and_check(purchase_request)
        messages.error(request, error_text(error))
    except (DomainError, PermissionDenied) as error:
        messages.error(request, error_text(error))
    else:
        messages.success(request, f"{purchase_request.number}: {_DONE[action]}.")
    return redirect(purchase_request)


_DONE = {
    "submit": "submitted for review",
    "resubmit": "resubmitted for review",
    "withdraw": "withdrawn",
    "mark-ordered": "marked as ordered",
    "close": "closed",
}


def duplicates_check(request):
    """The duplicate check of the request form, refreshed (htmx) as title and vendor change.
    `part=title` shows the requests with a similar title (beside the title), `part=vendor` the
    vendor's contracts and requests (beside the vendor); without it, everything."""
    check_integer_params(request.GET, "vendor", "exclude", min_value=1)  # ids: 400 otherwise
    form = DuplicateCheckForm(request.GET)
    form.is_valid()  # a title that is not valid (a NUL) is left out of the check
    values = form.cleaned_data
    vendor_id = values.get("vendor")
    found = selectors.duplicates_for(
        request.user,
        title=(values.get("title") or "").replace("\x00", "")[:200],  # PostgreSQL refuses NUL
        vendor_id=vendor_id,
        exclude_pk=values.get("exclude"),
    )
    part = request.GET.get("part")
    if part == "title":
        found = {**found, "contracts": []}
        found["requests"] = [
            r for r in found["requests"] if not vendor_id or r.vendor_id != vendor_id
        ]
    elif part == "vendor":
        found = {**found}
        found["requests"] = [r for r in found["requests"] if vendor_id and r.vendor_id == vendor_id]
    context = {"duplicates": found, "part": part}
    return render(request, "intake/_duplicates.html", context)


def vendor_search(request):
    """The request form's vendor picker (htmx): vendors by name, with status and risk tier."""
    query = request.GET.get("q", "")
    vendors = vendor_selectors.search_vendors_to_request_from(query)
    return render(request, "intake/_vendor_results.html", {"vendors": vendors, "query": query})


@require_POST
def request_rating(request, pk):
    """The requester or IT rates the vendor of a closed request."""
    purchase_request = _visible_or_404(request.user, pk)
    form = RatingForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"{form[field].label}: {' '.join(errors)}")
        return redirect(purchase_request)
    perform(
        request,
        rate_vendor,
        purchase_request,
        by=request.user,
        **form.cleaned_data,
        success=f"Thank you: your rating of {purchase_request.vendor} is saved.",
    )
    return redirect(purchase_request)


@require_POST
def request_comment(request, pk):
    purchase_request = _visible_or_404(request.user, pk)
    form = CommentForm(request.POST)
    if form.is_valid():
        services.add_comment(purchase_request, by=request.user, body=form.cleaned_data["body"])
        messages.success(request, "Comment added.")
    else:
        show_form_errors(request, form)
    return redirect(f"{purchase_request.get_absolute_url()}#comments")


@require_POST
def request_attachments(request, pk):
    purchase_request = _visible_or_404(request.user, pk)
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect(purchase_request)
    perform(
        request,
        services.add_attachments,
        purchase_request,
        by=request.user,
        uploaded_files=form.cleaned_data["attachments"],
        success="Attachments added.",
    )
    return redirect(purchase_request)


def attachment_download(request, pk, attachment_pk):
    """Attachments are served only to those who may see the request, never from a public URL."""
    purchase_request = _visible_or_404(request.user, pk)
    attachment = get_object_or_404(Attachment, pk=attachment_pk, request=purchase_request)
    return FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )


def _visible_or_404(user, pk) -> PurchaseRequest:
    try:
        # The page says which rules version routed it (approvals/_steps.html).
        requests = selectors.requests_with_details().select_related("rules_version")
        return selectors.request_for_page(user, pk, requests=with_waiting_on(requests))
    except PurchaseRequest.DoesNotExist:
        raise Http404("No such request.") from None


def _line_item_formset(purchase_request=None, data=None):
    initial = None
    if purchase_request is not None and data is None:
        initial = [
            {"description": i.description, "quantity": i.quantity, "unit_price": i.unit_price}
            for i in purchase_request.line_items.all()
        ]
    return LineItemFormSet(data, initial=initial, prefix=LINE_ITEMS_PREFIX)


def _request_form(request, purchase_request):
    """New and edit share one page: "Save draft" keeps what is there; "Submit" saves, then
    submits, and when the request is incomplete shows what is missing on the saved draft."""
    if request.method != "POST":
        # A new request is charged to the requester's department unless they pick another.
        initial = {"department": request.user.department_id} if purchase_request is None else None
        return _render_form(
            request,
            purchase_request,
            PurchaseRequestForm(instance=purchase_request, initial=initial),
            _line_item_formset(purchase_request),
        )
    form = PurchaseRequestForm(request.POST, request.FILES, instance=purchase_request)
    formset = _line_item_formset(data=request.POST)
    if not (form.is_valid() and formset.is_valid()):
        messages.error(request, "Nothing was saved yet: fix the marked fields.")
        return _render_form(request, purchase_request, form, formset)
    try:
        purchase_request = services.save_draft(
            purchase_request,
            by=request.user,
            fields=form.request_fields(),
            line_items=formset.rows(),
            attachments=form.cleaned_data["attachments"],
        )
    except ValidationError as error:
        messages.error(request, "Nothing was saved yet: fix the marked fields.")
        add_service_errors(form, error)
        return _render_form(request, purchase_request, form, formset)
    except (DomainError, PermissionDenied) as error:
        messages.error(request, error_text(error))
        return _render_form(request, purchase_request, form, formset)
    if "submit" not in request.POST:
        messages.success(request, f"{purchase_request.number} saved as a draft.")
        return redirect(purchase_request)
    try:
        workflow.send_to_review(purchase_request, by=request.user)
    except ValidationError:
        messages.warning(
            request, f"{purchase_request.number} is saved as a draft but not submitted yet."
        )
        return _edit_and_check(purchase_request)
    messages.success(request, f"{purchase_request.number} submitted for review.")
    return redirect(purchase_request)


def _render_form(request, purchase_request, form, formset, submission_errors=None):
    line_item_errors = []
    if submission_errors is not None:
        if not form.is_bound:
            form.cleaned_data = {}  # add_error expects it; an unbound form never cleaned
        for field, errors in submission_errors.message_dict.items():
            if field == "line_items":
                line_item_errors.extend(errors)
            elif field in form.fields:
                for message in errors:
                    form.add_error(field, message)
    form.mark_invalid_fields()
    context = {
        "pr": purchase_request,
        "form": form,
        "formset": formset,
        "line_item_errors": line_item_errors,
        "change_request": selectors.change_request(purchase_request) if purchase_request else None,
        "error_summary": _error_summary(form, formset, line_item_errors),
    }
    return render(request, "intake/request_form.html", context)


def _error_summary(form, formset, line_item_errors) -> list[dict]:
    """Every problem of the form, in the order of the page, each linking to its field."""
    problems = [{"anchor": "request-form", "text": e} for e in form.non_field_errors()]
    in_page_order = [field for _, fields in form.sections() for field in fields]
    for field in [*in_page_order, form["attachments"]]:
        for error in field.errors:
            problems.append({"anchor": field.id_for_label, "text": f"{field.label}: {error}"})
        if field.name == "term_months":  # the line items follow the cost fields
            problems += [{"anchor": "line-items", "text": e} for e in line_item_errors]
            if formset.is_bound:
                problems += [
                    {"anchor": "line-items", "text": f"Line items: {e}"}
                    for e in formset.non_form_errors()
                ]
                for number, line in enumerate(formset.forms, start=1):
                    for name in line.errors:
                        bound = line[name] if name in line.fields else None
                        for error in line.errors[name]:
                            problems.append(
                                {
                                    "anchor": bound.id_for_label if bound else "line-items",
                                    "text": f"Line {number}, "
                                    f"{(bound.label if bound else 'item').lower()}: {error}",
                                }
                            )
    return problems
