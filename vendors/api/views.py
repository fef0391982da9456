from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from approvals import workflow
from approvals.api.serializers import StepSerializer
from approvals.selectors import steps_of
from core.uploads import ALLOWED_TYPES
from intake.selectors import requests_a_contract_may_name, requests_visible_to

from .. import policies, selectors, services
from ..filters import VendorFilter
from ..models import Certificate, Contract, SecurityQuestion, Vendor, VendorAnswer
from .serializers import (
    AnswersSerializer,
    CertificateSerializer,
    ContractSerializer,
    QuestionnaireSerializer,
    RateSerializer,
    RatingsSerializer,
    VendorRatingSerializer,
    VendorSerializer,
)


class VendorPolicy(permissions.BasePermission):
    """Asks `vendors.policies` whether the caller may take the view's action; a refusal is a 403
    carrying the policy's reason."""

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False  # 401: the view's authenticators say how to sign in
        policy = view.policy()
        if policy is None:
            return True
        verdict = policy(request.user)
        self.message = verdict.reason
        return verdict.allowed


# Actions whose writes another policy than `can_manage_vendor` decides. None: the service
# decides with the object in hand (a rating needs the request it is for).
WRITE_POLICIES = {
    "questionnaire": policies.can_answer_questionnaire,
    "ratings": None,
}


class VendorViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Vendors, for IT, procurement, finance and admins (SPEC §5, §7). POST creates a prospective
    vendor and PATCH changes its record; the status changes only through the joint review
    (`start-review`, then the steps at /api/steps/{id}/approve/)."""

    serializer_class = VendorSerializer
    filterset_class = VendorFilter
    permission_classes = [VendorPolicy]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def policy(self):
        if self.request.method in permissions.SAFE_METHODS:
            return policies.can_view_vendors
        return WRITE_POLICIES.get(self.action, policies.can_manage_vendor)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no real user
            return Vendor.objects.none()
        vendors = selectors.vendors_with_figures()
        user = self.request.user
        if self.action == "ratings" and not policies.can_view_vendors(user):
            # A requester rates the vendor of their own closed request without seeing vendor
            # records: only the vendors their requests name exist for them.
            vendors = vendors.filter(pk__in=requests_visible_to(user).values("vendor_id"))
        return vendors

    def perform_create(self, serializer):
        serializer.instance = services.create_vendor(
            by=self.request.user, fields=serializer.validated_data
        )

    def perform_update(self, serializer):
        services.update_vendor(
            serializer.instance, by=self.request.user, fields=serializer.validated_data
        )

    def create(self, request, *args, **kwargs):
        response = super().create(request, *args, **kwargs)
        response.data = self._fresh(response.data["id"])
        return response

    def update(self, request, *args, **kwargs):
        response = super().update(request, *args, **kwargs)
        response.data = self._fresh(kwargs["pk"])
        return response

    def _fresh(self, pk):
        """The vendor as the list shows it, figures included, after a write."""
        return self.get_serializer(selectors.vendors_with_figures().get(pk=pk)).data

    @extend_schema(request=None, responses=VendorSerializer)
    @action(
        detail=True,
        methods=["post"],
        url_path="start-review",
        filterset_class=None,
        pagination_class=None,
    )
    def start_review(self, request, pk=None):
        vendor = workflow.start_review(self.get_object(), by=request.user)
        return Response(self._fresh(vendor.pk))

    @extend_schema(responses=StepSerializer(many=True))
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def steps(self, request, pk=None):
        """The steps of the vendor's joint review, every round; decide them at /api/steps/."""
        return Response(StepSerializer(steps_of(self.get_object()), many=True).data)

    @extend_schema(methods=["get"], responses=QuestionnaireSerializer)
    @extend_schema(methods=["post"], request=AnswersSerializer, responses=QuestionnaireSerializer)
    @action(detail=True, methods=["get", "post"], filterset_class=None, pagination_class=None)
    def questionnaire(self, request, pk=None):
        """The security questionnaire with the vendor's answers; POST answers some or all of its
        questions and sets the risk score and tier."""
        vendor = self.get_object()
        if request.method == "POST":
            serializer = AnswersSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            vendor = services.answer_questionnaire(
                vendor, by=request.user, answers=serializer.as_service_answers()
            )
        answers = {
            answer.question_id: answer
            for answer in VendorAnswer.objects.filter(vendor=vendor).select_related("answered_by")
        }
        questions = SecurityQuestion.objects.filter(active=True).prefetch_related("options")
        questionnaire = {
            "risk_score": vendor.risk_score,
            "risk_tier": vendor.risk_tier,
            "questions": [{"question": q, "answer": answers.get(q.pk)} for q in questions],
        }
        return Response(QuestionnaireSerializer(questionnaire).data)

    @extend_schema(methods=["get"], responses=CertificateSerializer(many=True))
    @extend_schema(
        methods=["post"],
        request={
            "multipart/form-data": CertificateSerializer,
            "application/json": CertificateSerializer,
        },
        responses={201: CertificateSerializer},
    )
    @action(detail=True, methods=["get", "post"], filterset_class=None, pagination_class=None)
    def certificates(self, request, pk=None):
        """Compliance certificates, soonest expiry first; POST adds one (multipart for the
        document)."""
        vendor = self.get_object()
        context = self.get_serializer_context()
        if request.method == "GET":
            certificates = Certificate.objects.filter(vendor=vendor).select_related("uploaded_by")
            return Response(CertificateSerializer(certificates, many=True, context=context).data)
        serializer = CertificateSerializer(data=request.data, context=context)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        document = fields.pop("document", None)
        certificate = services.add_certificate(
            vendor, by=request.user, fields=fields, document=document
        )
        return Response(
            CertificateSerializer(certificate, context=context).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        parameters=[OpenApiParameter("certificate_pk", int, OpenApiParameter.PATH)],
        # The document is served as what its content was recognised as on upload.
        responses={
            (200, content_type): OpenApiResponse(OpenApiTypes.BINARY, description="The document.")
            for content_type in ALLOWED_TYPES
        },
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"certificates/(?P<certificate_pk>[0-9]+)/document",
        url_name="certificate-document",
        filterset_class=None,
        pagination_class=None,
    )
    def certificate_document(self, request, pk=None, certificate_pk=None):
        """The certificate's document, as uploaded."""
        certificate = get_object_or_404(
            Certificate.objects.exclude(document=""), pk=certificate_pk, vendor=self.get_object()
        )
        return FileResponse(
            certificate.document.open("rb"),
            as_attachment=True,
            filename=certificate.document_name or None,
            content_type=certificate.document_type or None,
        )

    @extend_schema(methods=["get"], responses=ContractSerializer(many=True))
    @extend_schema(
        methods=["post"], request=ContractSerializer, responses={201: ContractSerializer}
    )
    @action(detail=True, methods=["get", "post"], filterset_class=None, pagination_class=None)
    def contracts(self, request, pk=None):
        """Contracts, soonest end first; POST records one, linked to the requests it came from."""
        vendor = self.get_object()
        context = self.get_serializer_context()
        if request.method == "GET":
            contracts = (
                Contract.objects.filter(vendor=vendor)
                .select_related("owner")
                .prefetch_related("requests")
            )
            return Response(ContractSerializer(contracts, many=True, context=context).data)
        serializer = ContractSerializer(
            data=request.data,
            context=context,
            request_choices=requests_a_contract_may_name(request.user, vendor),
        )
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        requests = fields.pop("requests", [])
        contract = services.add_contract(vendor, by=request.user, fields=fields, requests=requests)
        return Response(
            ContractSerializer(contract, context=context).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(methods=["get"], responses=RatingsSerializer)
    @extend_schema(
        methods=["post"], request=RateSerializer, responses={201: VendorRatingSerializer}
    )
    @action(detail=True, methods=["get", "post"], filterset_class=None, pagination_class=None)
    def ratings(self, request, pk=None):
        """Supplier performance: averages, count and every rating. POST rates the vendor for a
        closed request that names it, once per person (its requester and IT)."""
        vendor = self.get_object()
        if request.method == "GET":
            ratings = vendor.ratings.select_related("rater", "request")
            return Response(
                RatingsSerializer(
                    {
                        "rating_count": vendor.rating_count,
                        "average_delivery": vendor.average_delivery,
                        "average_quality": vendor.average_quality,
                        "average_support": vendor.average_support,
                        "ratings": ratings,
                    }
                ).data
            )
        serializer = RateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        scores = dict(serializer.validated_data)
        request_pk = scores.pop("request")
        purchase_request = requests_visible_to(request.user).filter(pk=request_pk).first()
        if purchase_request is None:
            raise Http404
        if purchase_request.vendor_id != vendor.pk:
            raise ValidationError({"request": ["This request does not name this vendor."]})
        rating = services.rate_vendor(purchase_request, by=request.user, **scores)
        return Response(VendorRatingSerializer(rating).data, status=status.HTTP_201_CREATED)
