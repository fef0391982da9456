from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from core.schema import ErrorSerializer
from intake.models import PurchaseRequest
from intake.selectors import requests_visible_to

from .. import policies, rule_drafts, selectors, services
from ..models import ApprovalStep, Consultation, RuleDraft, RuleSetVersion
from ..views import zip_response
from .serializers import (
    AnswerInputSerializer,
    ApprovalRuleSerializer,
    AssignInputSerializer,
    ConsultationSerializer,
    ConsultInputSerializer,
    DecisionSerializer,
    EmergencyPublishSerializer,
    PreviewRequestSerializer,
    PreviewSerializer,
    RejectDraftSerializer,
    RuleDraftCreateSerializer,
    RuleDraftSerializer,
    RuleSetVersionListSerializer,
    RuleSetVersionSerializer,
    StepSerializer,
)


class StepViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Approval steps of requests the caller may see; decisions are POSTs with a comment."""

    serializer_class = StepSerializer
    # API tokens need the "decide" scope for these (accounts.tokens.required_scope).
    decide_actions = ("approve", "reject", "request_changes", "take", "assign", "release")

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no real user
            return ApprovalStep.objects.none()
        return (
            selectors.steps_visible_to(self.request.user)
            .select_related("group", "user", "decided_by", "decided_for", "assignee")
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

    # Work is assigned, not raced: take, hand to a colleague, release.

    def _held(self, step):
        """The step as it is after the change, with what the response shows."""
        return Response(StepSerializer(self.get_queryset().get(pk=step.pk)).data)

    @extend_schema(
        summary="Take a step (“I'll take it”)",
        description=(
            "The caller, who may decide this open step, holds it: it shows first in their "
            "Waiting for me and as theirs to colleagues, who may still decide it. Taking a "
            "step one already holds changes nothing."
        ),
        request=None,
        responses={
            200: StepSerializer,
            403: OpenApiResponse(ErrorSerializer, description="The caller may not decide it."),
            404: OpenApiResponse(description="No such step, or not visible to the caller."),
            409: OpenApiResponse(
                ErrorSerializer,
                description="The step is not open, or somebody else holds it (named).",
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def take(self, request, pk=None):
        step = self.get_object()  # 404 when the caller may not see it
        return self._held(services.take_step(step, by=request.user))

    @extend_schema(
        summary="Hand a step to a colleague",
        description=(
            "Whoever holds the step, a reviewer who may decide it, or the leader of its side "
            "hands it to a colleague who may decide it (never the requester, never somebody "
            "barred by four eyes). The colleague is told at once."
        ),
        request=AssignInputSerializer,
        responses={
            200: StepSerializer,
            400: OpenApiResponse(
                description="`to` is missing, names nobody, or somebody who may not decide it."
            ),
            403: OpenApiResponse(ErrorSerializer, description="The caller may not hand it on."),
            404: OpenApiResponse(description="No such step, or not visible to the caller."),
            409: OpenApiResponse(
                ErrorSerializer,
                description="The step is not open, or somebody else holds it (named).",
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        step = self.get_object()  # 404 when the caller may not see it
        serializer = AssignInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._held(
            services.assign_step(step, by=request.user, to=serializer.validated_data["to"])
        )

    @extend_schema(
        summary="Release a step",
        description=(
            "Undoes “I'll take it”: the step is its whole group's again. Only whoever holds it, "
            "the leader of its side or an admin releases it."
        ),
        request=None,
        responses={
            200: StepSerializer,
            403: OpenApiResponse(ErrorSerializer, description="Somebody else holds it."),
            404: OpenApiResponse(description="No such step, or not visible to the caller."),
            409: OpenApiResponse(ErrorSerializer, description="The step is not open."),
        },
    )
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        step = self.get_object()  # 404 when the caller may not see it
        return self._held(services.release_step(step, by=request.user))


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


class ZipRenderer(BaseRenderer):
    """Lets a client ask for `Accept: application/zip`; errors still come as JSON."""

    media_type = "application/zip"
    format = "zip"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes):
            return data
        return JSONRenderer().render(data)


class RequestEvidenceView(APIView):
    """The request's evidence packet: one ZIP with packet.json (request, line items, steps and
    decisions, attachments' SHA-256, events with chain hashes, chain links, latest signed
    checkpoint) and packet.html. Verify it offline with `python -m tandem_verify packet.zip`."""

    renderer_classes = [JSONRenderer, ZipRenderer]

    @extend_schema(
        responses={
            (200, "application/zip"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The evidence packet (ZIP)."
            ),
            404: OpenApiResponse(description="No such request, or the caller may not see it."),
        }
    )
    def get(self, request, request_pk):
        purchase_request = requests_visible_to(request.user).filter(pk=request_pk).first()
        if purchase_request is None:
            raise Http404
        return zip_response(purchase_request)


class IsAdmin(permissions.IsAdminUser):
    message = "Only admins configure routing rules."


class RuleViewSet(viewsets.ModelViewSet):
    """Routing rules (admins only). Changes are recorded in the audit trail."""

    serializer_class = ApprovalRuleSerializer
    permission_classes = [IsAdmin]

    def get_queryset(self):
        return selectors.rules_for_admin()

    def perform_create(self, serializer):
        serializer.instance = services.save_rule(
            None, by=self.request.user, fields=serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.save_rule(
            serializer.instance, by=self.request.user, fields=serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.delete_rule(instance, by=self.request.user)


class CanPreviewRules(permissions.BasePermission):
    message = "Only admins and reviewers preview routing."

    def has_permission(self, request, view):
        return policies.can_preview_rules(request.user).allowed


class RulePreviewView(APIView):
    """Which steps a request (or a draft's facts) would get under today's rules, and why."""

    permission_classes = [CanPreviewRules]
    token_scope = "read"  # a preview changes nothing

    @extend_schema(
        request=PreviewRequestSerializer,
        responses={
            200: PreviewSerializer,
            404: OpenApiResponse(
                ErrorSerializer, description="The `request` named is not one the caller can see."
            ),
        },
    )
    def post(self, request):
        serializer = PreviewRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        purchase_request = None
        if data.get("request") is not None:
            try:
                purchase_request = requests_visible_to(request.user).get(pk=data["request"])
            except PurchaseRequest.DoesNotExist:
                raise Http404 from None
        result = selectors.rule_preview(
            purchase_request=purchase_request, draft=data, viewer=request.user
        )
        return Response(
            PreviewSerializer(
                {
                    "auto_approved_by": getattr(result.auto_approved_by, "name", None),
                    "auto_approval_reasons": result.auto_approval_reasons,
                    "steps": result.steps,
                    "warnings": selectors.four_eyes_warnings(result),
                }
            ).data
        )


# Rule changes (issue #32): versions, drafts, backtest, four eyes ------------------------------

NOT_FOUND = OpenApiResponse(description="No such version or draft.")
NOT_ADMIN = OpenApiResponse(ErrorSerializer, description="Not an admin.")


class RuleVersionViewSet(viewsets.ReadOnlyModelViewSet):
    """Every version of the routing rules, newest first, with what changed in words; one
    version with all its rules. Admins only."""

    permission_classes = [IsAdmin]
    lookup_field = "number"

    def get_queryset(self):
        return RuleSetVersion.objects.select_related("created_by")

    def get_serializer_class(self):
        return RuleSetVersionListSerializer if self.action == "list" else RuleSetVersionSerializer


class RuleDraftViewSet(
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Drafted changes to the routing rules: backtested, submitted by their author and
    published when a second admin approves them (four eyes on the rules themselves). Admins
    only."""

    serializer_class = RuleDraftSerializer
    permission_classes = [IsAdmin]

    def get_queryset(self):
        return RuleDraft.objects.select_related(
            "based_on", "author", "decided_by", "emergency_by", "published_version"
        )

    def _shown(self, draft, status_code=status.HTTP_200_OK):
        return Response(
            RuleDraftSerializer(self.get_queryset().get(pk=draft.pk)).data, status=status_code
        )

    @extend_schema(
        summary="Draft a change to the routing rules",
        description=(
            "Starts from the rules in use, from an earlier version (`from_version`, a "
            "restore), or from a whole rule set (`rules`, in a version's shape)."
        ),
        request=RuleDraftCreateSerializer,
        responses={
            201: RuleDraftSerializer,
            400: OpenApiResponse(description="Rules that are not valid, or an unknown version."),
            403: NOT_ADMIN,
        },
    )
    def create(self, request):
        serializer = RuleDraftCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        from_version = None
        if "from_version" in data:
            from_version = RuleSetVersion.objects.filter(number=data["from_version"]).first()
            if from_version is None:
                raise ValidationError({"from_version": ["No such version."]})
        draft = rule_drafts.start_draft(
            by=request.user, reason=data["reason"], from_version=from_version,
            rules=data.get("rules"),
        )  # fmt: skip
        return self._shown(draft, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Backtest the draft against the last twelve months",
        description=(
            "Queues the backtest (a Celery task); follow `backtest.done` and `backtest.total` "
            "on the draft until `backtest.state` is `done`."
        ),
        request=None,
        responses={202: RuleDraftSerializer, 403: NOT_ADMIN, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def backtest(self, request, pk=None):
        draft = rule_drafts.start_backtest(self.get_object(), by=request.user)
        return self._shown(draft, status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Submit the draft for a second admin's approval",
        request=None,
        responses={
            200: RuleDraftSerializer,
            403: OpenApiResponse(ErrorSerializer, description="Not the draft's author."),
            404: NOT_FOUND,
            409: OpenApiResponse(
                ErrorSerializer,
                description="Not being edited, no backtest of the draft as it is, nothing "
                "changed, or the rules changed since the draft was started.",
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._shown(rule_drafts.submit_draft(self.get_object(), by=request.user))

    @extend_schema(
        summary="Approve the draft (a second admin): it is published",
        description="Approving a change published in an emergency confirms it.",
        request=None,
        responses={
            200: RuleDraftSerializer,
            403: OpenApiResponse(ErrorSerializer, description="The author, or not an admin."),
            404: NOT_FOUND,
            409: OpenApiResponse(
                ErrorSerializer,
                description="Not submitted, or the rules changed since it was started.",
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._shown(rule_drafts.approve_draft(self.get_object(), by=request.user))

    @extend_schema(
        summary="Reject the draft (a second admin)",
        request=RejectDraftSerializer,
        responses={
            200: RuleDraftSerializer,
            403: NOT_ADMIN,
            404: NOT_FOUND,
            409: OpenApiResponse(ErrorSerializer, description="Not submitted."),
        },
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        serializer = RejectDraftSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        draft = rule_drafts.reject_draft(
            self.get_object(), by=request.user, **serializer.validated_data
        )
        return self._shown(draft)

    @extend_schema(
        summary="Publish at once in an emergency",
        description=(
            "One admin publishes with a reason; the CIO and the CPO are told at once, and a "
            "second admin's approval is still due within a day (an alert otherwise)."
        ),
        request=EmergencyPublishSerializer,
        responses={
            200: RuleDraftSerializer,
            400: OpenApiResponse(description="No reason given."),
            403: NOT_ADMIN,
            404: NOT_FOUND,
            409: OpenApiResponse(ErrorSerializer, description="Already published or rejected."),
        },
    )
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        serializer = EmergencyPublishSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        draft = rule_drafts.publish_in_emergency(
            self.get_object(), by=request.user, **serializer.validated_data
        )
        return self._shown(draft)
