"""What every page view does with a refused action: the user sees the same reason the API
gives (SPEC §7), as a message on the page they return to."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError

from .errors import DomainError

# The errors a user can cause: a product rule (409), a policy (403), invalid data (400).
USER_ERRORS = (DomainError, PermissionDenied, ValidationError)


def error_text(error: Exception) -> str:
    return " ".join(getattr(error, "messages", None) or [str(error)])


def perform(request, action, *args, success: str = "", **kwargs):
    """Runs a service call for a page. On success shows `success` and returns the result; on a
    user error shows why and returns None."""
    try:
        result = action(*args, **kwargs)
    except USER_ERRORS as error:
        messages.error(request, error_text(error))
        return None
    if success:
        messages.success(request, success)
    return result


def show_form_errors(request, form) -> None:
    """A small form posted from a panel of a page (a question, an answer) that is invalid: its
    errors become messages on the page the user returns to."""
    for errors in form.errors.values():
        messages.error(request, " ".join(errors))
