from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core.query import page_number

from . import services
from .forms import PreferencesForm


def inbox(request):
    page = Paginator(services.inbox_of(request.user), 25).get_page(page_number(request.GET))
    return render(request, "notifications/inbox.html", {"page": page})


@require_POST
def mark_read(request):
    """Marks one notification (`id`) or all of the user's as read, then follows its link."""
    notification_id = _id(request.POST.get("id"))
    if notification_id:
        services.mark_read(request.user, [notification_id])
        notification = services.notice_of(request.user, notification_id)
        if notification and request.POST.get("follow"):
            return redirect(notification.url)
    else:
        services.mark_read(request.user)
    return redirect("notifications:inbox")


def _id(value: str | None) -> int | None:
    """A notification id, or None for anything else ("²" is a digit to str.isdigit)."""
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if 0 < number < 2**63 else None


def preferences(request):
    """The signed-in person chooses, per kind, how e-mail (and Slack) tells them: at once, in
    a daily digest, or not at all; the app always shows every notification."""
    form = PreferencesForm(request.POST or None, choices=services.preferences_of(request.user))
    if request.method == "POST" and form.is_valid():
        services.set_preferences(request.user, form.cleaned_data)
        messages.success(request, "Your notification settings are saved.")
        return redirect("notifications:preferences")
    return render(request, "notifications/preferences.html", {"form": form})
