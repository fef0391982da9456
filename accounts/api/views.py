from django.db.models import Q
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from .. import services, tokens
from ..models import ApiToken, Delegation
from ..tokens import SessionOnly
from .serializers import (
    ApiTokenCreatedSerializer,
    ApiTokenCreateSerializer,
    ApiTokenSerializer,
    DelegationCreateSerializer,
    DelegationSerializer,
)


class DelegationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's out-of-office delegations, those they gave and those they hold, newest
    first; `active` says whether one applies now. POST creates one (the caller delegates);
    POST …/end/ ends one the caller gave."""

    serializer_class = DelegationSerializer
    filterset_class = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Delegation.objects.none()
        user = self.request.user
        return (
            Delegation.objects.filter(Q(delegator=user) | Q(delegate=user))
            .select_related("delegator", "delegate")
            .order_by("-starts_at", "-id")
        )

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": timezone.now()}

    @extend_schema(request=DelegationCreateSerializer, responses={201: DelegationSerializer})
    def create(self, request):
        serializer = DelegationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        delegation = services.create_delegation(
            delegator=request.user,
            delegate=data["delegate"],
            starts_at=data.get("starts_at") or timezone.now(),
            ends_at=data["ends_at"],
        )
        return Response(self.get_serializer(delegation).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={
            200: DelegationSerializer,
            204: OpenApiResponse(description="It had not started yet and is removed."),
            403: OpenApiResponse(description="Only the person who delegated ends it."),
            409: OpenApiResponse(description="It has already ended."),
        },
    )
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        delegation = self.get_object()  # 404 unless the caller gave or holds it
        if delegation.delegator_id != request.user.pk:
            raise PermissionDenied("Only the person who delegated can end this delegation.")
        ended = services.end_delegation(delegation)
        if ended is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(self.get_serializer(ended).data)


class ApiTokenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's API tokens (never the tokens themselves: only their prefix). POST makes one
    and shows it once; POST …/revoke/ revokes one. Only in a signed-in session, never with a
    token."""

    serializer_class = ApiTokenSerializer
    permission_classes = [SessionOnly]
    filterset_class = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ApiToken.objects.none()
        return ApiToken.objects.filter(user=self.request.user)

    @extend_schema(request=ApiTokenCreateSerializer, responses={201: ApiTokenCreatedSerializer})
    def create(self, request):
        serializer = ApiTokenCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        row, token = tokens.create_token(request.user, **serializer.validated_data)
        row.token = token
        return Response(ApiTokenCreatedSerializer(row).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={
            200: ApiTokenSerializer,
            409: OpenApiResponse(description="Already revoked."),
        },
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        return Response(ApiTokenSerializer(tokens.revoke_token(self.get_object())).data)
