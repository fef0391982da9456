from django.urls import reverse
from rest_framework import serializers

from accounts.models import User
from core.api import FreeTextField
from core.validation import CURRENCY_MESSAGE, currency_choices
from intake.models import PurchaseRequest

from ..models import AnswerOption, Certificate, Contract, RiskTier, Vendor, VendorRating
from ..selectors import NOT_A_REQUEST_TO_NAME
from ..services import VENDOR_FIELDS


def score_field(**kwargs):
    """A score or an average shown as a number (not money, so not a string)."""
    return serializers.DecimalField(
        coerce_to_string=False, read_only=True, allow_null=True, **kwargs
    )


class VendorSerializer(serializers.ModelSerializer):
    """A vendor as the API shows it, with the figures of the list (SPEC §5, §6). Writes go
    through `vendors.services`; the status changes only through the joint review and the risk
    tier and score only through the security questionnaire, so all three are read-only here."""

    has_expiring_certificate = serializers.BooleanField(read_only=True)
    active_contracts = serializers.IntegerField(read_only=True)
    rating_count = serializers.IntegerField(read_only=True)
    average_delivery = score_field(max_digits=3, decimal_places=2)
    average_quality = score_field(max_digits=3, decimal_places=2)
    average_support = score_field(max_digits=3, decimal_places=2)
    risk_score = score_field(max_digits=4, decimal_places=1)
    # Blank until the security questionnaire is answered.
    risk_tier = serializers.ChoiceField(choices=RiskTier.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Vendor
        fields = [
            "id",
            *VENDOR_FIELDS,
            "status",
            "risk_tier",
            "risk_score",
            "has_expiring_certificate",
            "active_contracts",
            "rating_count",
            "average_delivery",
            "average_quality",
            "average_support",
            "created_at",
        ]
        read_only_fields = ["status", "risk_tier", "created_at"]


class AnswerOptionSerializer(serializers.ModelSerializer):
    class Meta:
        model = AnswerOption
        fields = ["id", "label", "risk"]


class QuestionSerializer(serializers.Serializer):
    """A question of the security questionnaire with the vendor's current answer, if any."""

    id = serializers.IntegerField(source="question.pk")
    text = serializers.CharField(source="question.text")
    weight = serializers.IntegerField(source="question.weight")
    options = AnswerOptionSerializer(source="question.options.all", many=True)
    answer = serializers.IntegerField(source="answer.option_id", allow_null=True, default=None)
    answered_by = serializers.CharField(source="answer.answered_by", allow_null=True, default=None)
    answered_at = serializers.DateTimeField(
        source="answer.answered_at", allow_null=True, default=None
    )


class QuestionnaireSerializer(serializers.Serializer):
    risk_score = score_field(max_digits=4, decimal_places=1)
    risk_tier = serializers.CharField()
    questions = QuestionSerializer(many=True)


class AnswerSerializer(serializers.Serializer):
    question = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    option = serializers.IntegerField(min_value=1, max_value=2**63 - 1)


class AnswersSerializer(serializers.Serializer):
    answers = AnswerSerializer(many=True, allow_empty=False, max_length=500)

    def validate_answers(self, answers):
        questions = [answer["question"] for answer in answers]
        if len(set(questions)) != len(questions):
            raise serializers.ValidationError("Answer each question at most once.")
        return answers

    def as_service_answers(self) -> dict[int, int]:
        """{question id: option id}, as `services.answer_questionnaire` takes them."""
        return {a["question"]: a["option"] for a in self.validated_data["answers"]}


class CertificateSerializer(serializers.ModelSerializer):
    """A compliance certificate. The document is optional; when given (multipart), it must be a
    PDF, PNG, JPEG, DOCX, XLSX or CSV by its content, the check request attachments get."""

    document = serializers.FileField(write_only=True, required=False, allow_null=True)
    document_url = serializers.SerializerMethodField()
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    is_expiring = serializers.BooleanField(read_only=True)
    is_expired = serializers.BooleanField(read_only=True)
    uploaded_by = serializers.StringRelatedField()

    class Meta:
        model = Certificate
        fields = [
            "id",
            "kind",
            "kind_display",
            "issuer",
            "issued_on",
            "expires_on",
            "is_expiring",
            "is_expired",
            "document",
            "document_name",
            "document_type",
            "document_url",
            "uploaded_by",
            "uploaded_at",
        ]
        read_only_fields = ["document_name", "document_type", "uploaded_at"]

    def get_document_url(self, certificate) -> str | None:
        if not certificate.document:
            return None
        url = reverse(
            "vendor-certificate-document",
            kwargs={"pk": certificate.vendor_id, "certificate_pk": certificate.pk},
        )
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class ContractSerializer(serializers.ModelSerializer):
    """A contract with the vendor. The owner is named by username (the caller by default), and
    `services.add_contract` refuses one who may not own a contract in the form's words; the
    requests it came from by id, among the requests of this vendor the caller may see."""

    owner = serializers.SlugRelatedField(
        slug_field="username",
        queryset=User.objects.all(),
        default=serializers.CurrentUserDefault(),
    )
    requests = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=PurchaseRequest.objects.none(),
        required=False,
        error_messages={"does_not_exist": NOT_A_REQUEST_TO_NAME.format("{pk_value}")},
    )
    currency = serializers.ChoiceField(
        choices=currency_choices(),
        default="EUR",
        error_messages={"invalid_choice": CURRENCY_MESSAGE},
    )
    is_active = serializers.BooleanField(read_only=True)
    notice_date = serializers.DateField(read_only=True)

    class Meta:
        model = Contract
        fields = [
            "id",
            "title",
            "starts_on",
            "ends_on",
            "auto_renew",
            "notice_days",
            "annual_value",
            "currency",
            "seats",
            "owner",
            "requests",
            "is_active",
            "notice_date",
            "created_at",
        ]
        read_only_fields = ["created_at"]

    def __init__(self, *args, request_choices=None, **kwargs):
        super().__init__(*args, **kwargs)
        if request_choices is not None:
            self.fields["requests"].child_relation.queryset = request_choices


class VendorRatingSerializer(serializers.ModelSerializer):
    request_number = serializers.CharField(source="request.number", read_only=True)
    rater = serializers.StringRelatedField()

    class Meta:
        model = VendorRating
        fields = [
            "id",
            "request",
            "request_number",
            "rater",
            "delivery",
            "quality",
            "support",
            "comment",
            "created_at",
        ]
        read_only_fields = fields


class RatingsSerializer(serializers.Serializer):
    """Supplier performance: the averages the vendor page shows, and every rating."""

    rating_count = serializers.IntegerField()
    average_delivery = score_field(max_digits=3, decimal_places=2)
    average_quality = score_field(max_digits=3, decimal_places=2)
    average_support = score_field(max_digits=3, decimal_places=2)
    ratings = VendorRatingSerializer(many=True)


SCORE = {"min_value": 1, "max_value": 5}


class RateSerializer(serializers.Serializer):
    """A rating of the vendor for one closed request (SPEC §5): delivery, quality, support 1–5."""

    request = serializers.IntegerField()
    delivery = serializers.IntegerField(**SCORE)
    quality = serializers.IntegerField(**SCORE)
    support = serializers.IntegerField(**SCORE)
    comment = FreeTextField(required=False, allow_blank=True, default="")
