import logging
from datetime import timedelta

from allauth.account import views as allauth_views
from allauth.socialaccount.models import SocialAccount
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core import formats
from core.errors import TransitionNotAllowed
from core.forms import add_service_errors

from . import policies, services, sso, tokens
from .forms import ApiTokenForm, DelegationForm, TimeZoneForm
from .models import ApiToken, Delegation

log = logging.getLogger(__name__)


def out_of_office(request):
    """The signed-in user's delegations: who acts with their reviewing rights, and when."""
    form = DelegationForm(request.POST or None, delegator=request.user)
    if request.method == "POST" and form.is_valid():
        delegation = services.create_delegation(delegator=request.user, **form.delegation_fields())
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


@csrf_exempt  # the identity provider posts here, server to server, with a signed token
@login_not_required
@require_POST
def backchannel_logout(request, provider_id):
    """OpenID Connect back-channel logout: the provider says a person signed out there (or was
    switched off); every Tandem session of theirs ends. 200 when the signed logout token is
    valid, 400 (as the specification asks) when it is not."""
    app = sso.provider_app()
    if app is None or app["provider_id"] != provider_id:
        raise Http404("No such identity provider.")
    try:
        claims = sso.verify_logout_token(request.POST.get("logout_token", ""))
    except sso.InvalidLogoutToken as error:
        log.warning("back-channel logout refused: %s", error)
        return JsonResponse(
            {"error": "invalid_request", "error_description": str(error)}, status=400
        )
    account = (
        SocialAccount.objects.select_related("user")
        .filter(provider=provider_id, uid=claims["sub"])
        .first()
    )
    if account is not None:
        ended = services.end_sessions(account.user)
        log.info("back-channel logout of user %s: %s sessions ended", account.user_id, ended)
    return HttpResponse(status=200)


def _password_view(allauth_view):
    """allauth's page to change or set a password, behind the rule of who may have one
    (policies.may_set_local_password): a person of the identity provider gets a 403 that says
    why, before the form is shown or taken."""

    def view(request, *args, **kwargs):
        if request.user.is_authenticated:
            policies.may_set_local_password(request.user).enforce()
        return allauth_view(request, *args, **kwargs)

    return view


password_change = _password_view(allauth_views.password_change)
password_set = _password_view(allauth_views.password_set)
