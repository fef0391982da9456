from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django_fsm import ConcurrentTransition
from rest_framework import status
from rest_framework.exceptions import PermissionDenied as DRFPermissionDenied
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import TransitionNotAllowed


def exception_handler(exc, context):
    """Maps domain errors to the status codes of SPEC §7: a state that does not allow the action,
    or a concurrent change that won, is 409; a rule of who may act is 403; a model validation
    error is 400 with field errors."""
    if isinstance(exc, TransitionNotAllowed | ConcurrentTransition):
        return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = DRFValidationError(detail)
    elif isinstance(exc, PermissionDenied):
        exc = DRFPermissionDenied(str(exc) or None)
    return drf_exception_handler(exc, context)


class Pagination(PageNumberPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100
