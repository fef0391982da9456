from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.errors import TransitionNotAllowed

from . import services
from .forms import DelegationForm
from .models import Delegation


def out_of_office(request):
    """The signed-in user's delegations: who acts with their reviewing rights, and when."""
    form = DelegationForm(request.POST or None, delegator=request.user)
    if request.method == "POST" and form.is_valid():
        delegation = form.save()
        messages.success(
            request,
            f"{delegation.delegate} acts for you from {delegation.starts_at:%Y-%m-%d %H:%M}.",
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
