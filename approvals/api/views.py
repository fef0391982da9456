from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.roles import is_reviewer
from intake.models import PurchaseRequest
from intake.selectors import requests_visible_to

from .. import routing, selectors, services
from ..models import ApprovalStep, Consultation
from .serializers import (
    AnswerInputSerializer,
    ApprovalRuleSerializer,
    ConsultationSerializer,
    ConsultInputSerializer,
    DecisionSerializer,
    PreviewRequestSerializer,
    PreviewSerializer,
    StepSerializer,
)


class StepViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Approval steps of requests the caller may see; decisions are POSTs with a comment."""

    serializer_class = StepSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no real user
            return ApprovalStep.objects.none()
        return (
            selectors.steps_visible_to(self.request.user)
            .select_related("group", "user", "decided_by", "decided_for")
            .prefetch_related("consultations__asked_by", "consultations__colleague")
        )

    def _decide(self, decision):
        step = self.get_object()  # 404 when the caller may not see the request
        serializer = DecisionSerializer(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        step = services.decide_step(
            step, by=self.request.user, decision=decision, **serializer.validated_data
        )
        return Response(StepSerializer(step).data)

    @extend_schema(request=DecisionSerializer, responses=StepSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._decide("approve")

    @extend_schema(request=DecisionSerializer, responses=StepSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._decide("reject")

    @extend_schema(request=DecisionSerializer, responses=StepSerializer)
    @action(detail=True, methods=["post"], url_path="request-changes")
    def request_changes(self, request, pk=None):
        return self._decide("request_changes")

    @extend_schema(
        summary="Ask a colleague for a second opinion",
        description=(
            "A reviewer who may decide this open step asks a named colleague (a reviewer or "
            "leader, never the requester) a question. The colleague is notified and answers at "
            "/api/consultations/{id}/answer/; they get no right to decide the step."
        ),
        request=ConsultInputSerializer,
        responses={
            201: ConsultationSerializer,
            400: OpenApiResponse(
                description="Missing question, or a colleague who cannot be asked."
            ),
            403: OpenApiResponse(description="The caller may not decide this step."),
            404: OpenApiResponse(description="No such step, or not visible to the caller."),
            409: OpenApiResponse(
                description="The step is not open, or the colleague has an open question on it."
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def consult(self, request, pk=None):
        step = self.get_object()  # 404 when the caller may not see the request
        serializer = ConsultInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        consultation = services.ask_colleague(step, by=request.user, **serializer.validated_data)
        return Response(ConsultationSerializer(consultation).data, status=status.HTTP_201_CREATED)


class ConsultationViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Second opinions on the steps the caller may see; the colleague asked answers them."""

    serializer_class = ConsultationSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Consultation.objects.none()
        return selectors.consultations_visible_to(self.request.user)

    @extend_schema(
        summary="Answer a second-opinion question",
        description="Only the colleague asked answers, once, while the step is open.",
        request=AnswerInputSerializer,
        responses={
            200: ConsultationSerializer,
            400: OpenApiResponse(description="Missing answer."),
            403: OpenApiResponse(description="The caller is not the colleague asked."),
            404: OpenApiResponse(description="No such question, or not visible to the caller."),
            409: OpenApiResponse(
                description="Already answered, or the step was decided meanwhile."
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def answer(self, request, pk=None):
        consultation = self.get_object()  # 404 when the caller may not see the request
        serializer = AnswerInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        consultation = services.answer_consultation(
            consultation, by=request.user, **serializer.validated_data
        )
        return Response(ConsultationSerializer(consultation).data)


class RequestStepsView(generics.ListAPIView):
    """The approval steps of one request, every round."""

    serializer_class = StepSerializer
    pagination_class = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ApprovalStep.objects.none()
        visible = requests_visible_to(self.request.user)
        try:
            purchase_request = visible.get(pk=self.kwargs["request_pk"])
        except PurchaseRequest.DoesNotExist:
            raise Http404 from None
        return selectors.steps_of(purchase_request)


class IsAdmin(permissions.IsAdminUser):
    message = "Only admins configure routing rules."


class RuleViewSet(viewsets.ModelViewSet):
    """Routing rules (admins only). Changes are recorded in the audit trail."""

    serializer_class = ApprovalRuleSerializer
    permission_classes = [IsAdmin]

    def get_queryset(self):
        return selectors.rules_for_admin()

    def perform_create(self, serializer):
        services.save_rule(serializer, by=self.request.user)

    def perform_update(self, serializer):
        services.save_rule(serializer, by=self.request.user)

    def perform_destroy(self, instance):
        services.delete_rule(instance, by=self.request.user)


class CanPreviewRules(permissions.BasePermission):
    message = "Only admins and reviewers preview routing."

    def has_permission(self, request, view):
        user = request.user
        return bool(is_reviewer(user))


class RulePreviewView(APIView):
    """Which steps a request (or a draft's facts) would get under today's rules, and why."""

    permission_classes = [CanPreviewRules]

    @extend_schema(request=PreviewRequestSerializer, responses=PreviewSerializer)
    def post(self, request):
        serializer = PreviewRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data.get("request") is not None:
            try:
                purchase_request = requests_visible_to(request.user).get(pk=data["request"])
            except PurchaseRequest.DoesNotExist:
                raise Http404 from None
            facts = routing.RequestFacts.of(purchase_request)
        else:
            facts = routing.facts_from_draft(data)
        result = routing.plan(facts)
        return Response(
            PreviewSerializer(
                {
                    "auto_approved_by": getattr(result.auto_approved_by, "name", None),
                    "auto_approval_reasons": result.auto_approval_reasons,
                    "steps": result.steps,
                }
            ).data
        )
