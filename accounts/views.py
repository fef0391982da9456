from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core import formats
from core.errors import TransitionNotAllowed
from core.forms import add_service_errors

from . import services, tokens
from .forms import ApiTokenForm, DelegationForm, TimeZoneForm
from .models import ApiToken, Delegation


def out_of_office(request):
    """The signed-in user's delegations: who acts with their reviewing rights, and when."""
    form = DelegationForm(request.POST or None, delegator=request.user)
    if request.method == "POST" and form.is_valid():
        delegation = form.save()
        messages.success(
            request,
            f"{delegation.delegate} acts for you from {formats.when(delegation.starts_at)}.",
        )
        return redirect("accounts:out-of-office")
    context = {
        "form": form,
        "given": Delegation.objects.filter(
            delegator=request.user, ends_at__gt=timezone.now()
        ).select_related("delegate"),
        "held": Delegation.objects.filter(
            delegate=request.user, ends_at__gt=timezone.now()
        ).select_related("delegator"),
    }
    return render(request, "accounts/out_of_office.html", context)


def time_zone(request):
    """The signed-in person chooses the zone they read times in (or their team's)."""
    form = TimeZoneForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        zone = user.time_zone or "the time zone of your team's working hours"
        messages.success(request, f"Times now show in {zone}.")
        return redirect("accounts:time-zone")
    return render(request, "accounts/time_zone.html", {"form": form})


@require_POST
def end_delegation(request, pk):
    delegation = get_object_or_404(Delegation, pk=pk, delegator=request.user)
    try:
        services.end_delegation(delegation)
    except TransitionNotAllowed as error:
        messages.info(request, str(error))
        return redirect("accounts:out-of-office")
    messages.success(request, f"{delegation.delegate} no longer acts for you.")
    return redirect("accounts:out-of-office")


def api_tokens(request):
    """The signed-in person's API tokens: make one (shown once), see them, revoke them."""
    form = ApiTokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        try:
            row, new_token = tokens.create_token(
                request.user,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                expires_at=timezone.now() + timedelta(days=form.cleaned_data["days"]),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            form = ApiTokenForm()
    context = {
        "form": form,
        "new_token": new_token,
        "tokens": ApiToken.objects.filter(user=request.user),
        "now": timezone.now(),
    }
    return render(request, "accounts/api_tokens.html", context)


@require_POST
def revoke_api_token(request, pk):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    try:
        tokens.revoke_token(token)
    except TransitionNotAllowed as error:
        messages.info(request, str(error))
    else:
        messages.success(request, f"The token “{token.name}” is revoked.")
    return redirect("accounts:api-tokens")
