from django.db.models import prefetch_related_objects
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from approvals import queue_cache, workflow
from approvals.selectors import steps_awaiting, waiting_on_lookups, with_waiting_on
from core.api import StrictPageSizeMixin
from core.idempotency import HEADER, idempotent
from core.keyset import in_calendar
from core.schema import ExactSchema

from .. import selectors, services
from ..models import Comment, PurchaseRequest
from .filters import PurchaseRequestFilter
from .serializers import (
    AuditEventSerializer,
    CategorySerializer,
    CloseSerializer,
    CommentSerializer,
    MarkOrderedSerializer,
    PurchaseRequestListSerializer,
    PurchaseRequestSerializer,
    WithdrawSerializer,
)


def _page_schema(*, counted: bool) -> dict:
    link = {"type": "string", "format": "uri", "nullable": True}
    schema = {
        "type": "object",
        "required": ["count", "results"] if counted else ["results"],
        "properties": {
            **({"count": {"type": "integer", "example": 123}} if counted else {}),
            "next": link,
            "previous": link,
            "results": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/PurchaseRequestList"},
            },
        },
    }
    if not counted:
        schema["additionalProperties"] = False
    return schema


# The list is paged by number (with a count); `?awaiting=me` alone by a cursor (no count).
REQUEST_LIST_SCHEMA = ExactSchema(
    {
        "oneOf": [_page_schema(counted=True), _page_schema(counted=False)],
        "description": (
            "Paged by `page` with a `count`; with `awaiting=me` alone (and `cursor`, `page_size`), "
            "paged by `cursor`, without a count, most urgent first. Each request as lists "
            "show it: no line items or long texts (GET the request for those)."
        ),
    },
    serializers=[PurchaseRequestListSerializer],
)
CURSOR = OpenApiParameter(
    "cursor",
    OpenApiTypes.STR,
    description="With `awaiting=me`: the position of the page, from a `next` or `previous` link.",
)


class AwaitingCursorPagination(StrictPageSizeMixin, CursorPagination):
    ordering = ("due_at", "id")
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100

    def decode_cursor(self, request):
        """A cursor whose position is not a due time the database can compare with (a forged
        one) is invalid (404), like any other forged cursor."""
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None:
            try:
                moment = parse_datetime(cursor.position)
            except ValueError:
                moment = None
            if moment is None or not in_calendar(moment):
                raise NotFound(self.invalid_cursor_message)
        return cursor


class PurchaseRequestViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Purchase requests visible to the caller. POST creates a draft; PATCH changes a draft or a
    request with changes requested (409 otherwise); lifecycle actions are POSTs below."""

    serializer_class = PurchaseRequestSerializer
    filterset_class = PurchaseRequestFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no real user
            return PurchaseRequest.objects.none()
        requests = with_waiting_on(selectors.requests_visible_to(self.request.user))
        if self.action == "list":
            return requests  # the slim list has no line items
        return requests.prefetch_related("line_items")

    def get_serializer_class(self):
        if self.action == "list":
            return PurchaseRequestListSerializer
        return PurchaseRequestSerializer

    @extend_schema(parameters=[CURSOR], responses={200: REQUEST_LIST_SCHEMA})
    def list(self, request, *args, **kwargs):
        params = request.query_params
        paging = {
            AwaitingCursorPagination.cursor_query_param,
            AwaitingCursorPagination.page_size_query_param,
        }
        if params.getlist("awaiting") == ["me"] and set(params) <= {"awaiting", *paging}:
            return self._awaiting_me()  # any other `awaiting` is the filter's 400
        return super().list(request, *args, **kwargs)

    def _awaiting_me(self):
        """`?awaiting=me` on its own: the requests of the open steps the caller may decide, most
        urgent first, paged by a cursor over those steps (keyset on due time: no count, no deep
        offsets; the partial index on group and due time serves it), then the page's requests
        fetched in one query. A request with such a step is visible to the caller by
        definition, so no visibility filter over every request is needed. Kept per caller
        while nothing it shows changes (approvals.queue_cache)."""

        def work_out():
            paginator = AwaitingCursorPagination()
            steps = steps_awaiting(self.request.user).select_related("request__requester")
            page = paginator.paginate_queryset(steps, self.request, view=self)
            rows = list({s.request_id: s.request for s in page if s.request_id}.values())
            prefetch_related_objects(rows, *waiting_on_lookups())
            return paginator.get_paginated_response(self.get_serializer(rows, many=True).data)

        reader = ("api", self.request.user.pk, self.request.build_absolute_uri())
        return Response(queue_cache.kept(reader, lambda: work_out().data))

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        line_items = data.pop("line_items", [])
        serializer.instance = services.create_request(
            by=self.request.user, fields=data, line_items=line_items
        )

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        line_items = data.pop("line_items", None)
        services.update_request(
            serializer.instance, by=self.request.user, fields=data, line_items=line_items
        )

    def update(self, request, *args, **kwargs):
        response = super().update(request, *args, **kwargs)
        response.data = self._fresh(kwargs["pk"])
        return response

    def create(self, request, *args, **kwargs):
        response = super().create(request, *args, **kwargs)
        response.data = self._fresh(response.data["id"])
        return response

    def _fresh(self, pk):
        return self.get_serializer(self.get_queryset().get(pk=pk)).data

    def _transition(self, service, input_serializer_class=None):
        purchase_request = self.get_object()  # 404 when the caller may not see it
        arguments = {}
        if input_serializer_class is not None:
            serializer = input_serializer_class(data=self.request.data)
            serializer.is_valid(raise_exception=True)
            arguments = serializer.validated_data
        service(purchase_request, by=self.request.user, **arguments)
        return Response(self._fresh(purchase_request.pk))

    @extend_schema(request=None, responses=PurchaseRequestSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._transition(workflow.submit_request)

    @extend_schema(request=None, responses=PurchaseRequestSerializer)
    @action(detail=True, methods=["post"])
    def resubmit(self, request, pk=None):
        return self._transition(workflow.resubmit_request)

    @extend_schema(request=WithdrawSerializer, responses=PurchaseRequestSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        return self._transition(workflow.withdraw_request, WithdrawSerializer)

    @extend_schema(
        request=MarkOrderedSerializer,
        responses={
            200: PurchaseRequestSerializer,
            422: OpenApiResponse(description="The Idempotency-Key was used for another call."),
        },
        parameters=[
            OpenApiParameter(
                HEADER,
                str,
                OpenApiParameter.HEADER,
                description="Optional: a retried call with the same key records the PO once and "
                "gets the first response again (header Idempotent-Replayed: true).",
            )
        ],
    )
    @action(detail=True, methods=["post"], url_path="mark-ordered")
    def mark_ordered(self, request, pk=None):
        return idempotent(
            request,
            scope=f"mark-ordered:{pk}",
            run=lambda: self._transition(workflow.mark_ordered, MarkOrderedSerializer),
        )

    @extend_schema(request=CloseSerializer, responses=PurchaseRequestSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return self._transition(workflow.close_request, CloseSerializer)

    @extend_schema(responses=AuditEventSerializer(many=True))
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def events(self, request, pk=None):
        events = selectors.timeline(self.get_object())
        return Response(AuditEventSerializer(events, many=True).data)

    @extend_schema(methods=["get"], responses=CommentSerializer(many=True))
    @extend_schema(methods=["post"], request=CommentSerializer, responses={201: CommentSerializer})
    @action(detail=True, methods=["get", "post"], filterset_class=None, pagination_class=None)
    def comments(self, request, pk=None):
        purchase_request = self.get_object()
        if request.method == "GET":
            comments = Comment.objects.filter(request=purchase_request).select_related("author")
            return Response(CommentSerializer(comments, many=True).data)
        serializer = CommentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        comment = services.add_comment(
            purchase_request, by=request.user, body=serializer.validated_data["body"]
        )
        return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)


class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    """The active purchase categories: `id` is what a request's `category` takes, and what the
    requests list's `category` filter accepts."""

    serializer_class = CategorySerializer
    queryset = selectors.categories_to_request_in().order_by("name")
    filterset_class = None
