from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.template import loader
from django_filters.rest_framework import DjangoFilterBackend
from django_fsm import ConcurrentTransition
from rest_framework import parsers, serializers, status
from rest_framework.exceptions import ParseError
from rest_framework.exceptions import PermissionDenied as DRFPermissionDenied
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils import json
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import TransitionNotAllowed
from core.http import body_limit, too_large_message
from core.query import MAX_INTEGER, BadQueryParameter, integer_param
from core.validation import MAX_JSON_DEPTH, MAX_TEXT, json_depth, validate_text_length


def exception_handler(exc, context):
    """Maps domain errors to the status codes of SPEC §7: a state that does not allow the action,
    or a concurrent change that won, is 409; a rule of who may act is 403; a model validation
    error is 400 with field errors."""
    if isinstance(exc, RequestDataTooBig):
        limit = body_limit(context["request"]) if context.get("request") else 0
        return Response({"detail": too_large_message(limit)}, status=413)
    if isinstance(exc, BadQueryParameter):
        return Response({exc.name: [exc.message]}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, TransitionNotAllowed | ConcurrentTransition):
        return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = DRFValidationError(detail)
    elif isinstance(exc, PermissionDenied):
        exc = DRFPermissionDenied(str(exc) or None)
    return drf_exception_handler(exc, context)


class FreeTextField(serializers.CharField):
    """Free text a person writes: at most MAX_TEXT characters, refused with the words the
    models and the forms use (core.validation)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", f"At most {MAX_TEXT:,} characters.")
        super().__init__(**kwargs)
        self.validators.append(validate_text_length)


class StrictPageSizeMixin:
    """`page_size` is a whole number of 1 or more (400 otherwise; DRF would silently use the
    default); above `max_page_size` it is `max_page_size`, as documented."""

    def get_page_size(self, request):
        size = integer_param(
            request.query_params, self.page_size_query_param, default=None, min_value=1
        )
        return self.page_size if size is None else min(size, self.max_page_size)


class Pagination(StrictPageSizeMixin, PageNumberPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_number(self, request, paginator):
        """A whole page number of 1 or more (400 otherwise); "last" as DRF allows it."""
        if request.query_params.get(self.page_query_param) in self.last_page_strings:
            return super().get_page_number(request, paginator)
        return integer_param(
            request.query_params, self.page_query_param, default=1, min_value=1,
            max_value=MAX_INTEGER,
        )  # fmt: skip


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser (strict: no NaN or Infinity) with a limit on nesting: a body nested
    deeper than MAX_JSON_DEPTH levels is a 400, not a RecursionError in the parser."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding)
        except UnicodeDecodeError as error:
            raise ParseError(f"The body is not valid {encoding} text.") from error
        if json_depth(text) > MAX_JSON_DEPTH:
            raise ParseError(f"JSON may nest at most {MAX_JSON_DEPTH} levels deep.")
        try:
            return json.loads(text, parse_constant=json.strict_constant)
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}") from error


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, whose form in the browsable API asks for a related object by
    its id (a number box) instead of listing every one of them: with 5,000 vendors, a page of
    requests in the browser was 300 KB of options."""

    def to_html(self, request, queryset, view):
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return None
        for field in filterset.form.fields.values():
            if isinstance(field, forms.ModelChoiceField):
                field.widget = forms.NumberInput()
        return loader.get_template(self.template).render({"filter": filterset}, request)
