"""The page a decision link opens (SPEC §8a). GET only shows (mail scanners open links); a
decision is a POST in the recipient's own signed-in session. Without a session, the sign-in
page comes first and brings the reviewer back here (LoginRequiredMiddleware's ?next=)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render

from approvals.subjects import subject_of
from core.errors import DomainError
from core.pages import error_text

from . import services
from .forms import LinkDecisionForm


def decision_link(request, token):
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    check = services.check_token(token, user=request.user)
    if check.problem:
        return _refused(request, check)
    form = LinkDecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        decision = form.cleaned_data["decision"]
        try:
            step = services.decide_with_token(
                token, by=request.user, decision=decision, comment=form.cleaned_data["comment"]
            )
        except services.TokenRefused as refused:
            return _refused(request, refused.check)
        except ValidationError as error:
            form.add_error("comment", error_text(error))
        except (DomainError, PermissionDenied) as error:
            form.add_error(None, error_text(error))
        else:
            label = subject_of(step).short_label
            outcome = services.OUTCOME[decision]
            messages.success(request, f"{label}: {step.reviewer_label} step {outcome}.")
            return redirect(f"{step.subject.get_absolute_url()}#steps")
    step = check.step
    return render(
        request,
        "reach/decision_link.html",
        {"step": step, "subject": step.subject, "form": form},
        status=400 if form.errors else 200,
    )


def _refused(request, check):
    step = check.step
    # Somebody the link was not sent to learns nothing about the request from it.
    show_subject = step is not None and check.token.user_id == request.user.pk
    context = {"problem": check.problem, "step": step if show_subject else None}
    return render(request, "reach/link_refused.html", context, status=check.status)
