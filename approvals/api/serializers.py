from django.contrib.auth.models import Group
from rest_framework import serializers

from accounts.api.serializers import PersonSerializer
from accounts.models import Department, User
from core.api import FreeTextField
from intake.models import Category, DataClassification

from .. import rule_drafts
from ..models import ApprovalRule, ApprovalStep, Consultation, RuleDraft, RuleSetVersion


class ConsultationSerializer(serializers.ModelSerializer):
    """A second opinion on a step: who asked whom what, and the answer once given."""

    asked_by = serializers.StringRelatedField()
    colleague = serializers.StringRelatedField()
    colleague_username = serializers.CharField(source="colleague.username", read_only=True)
    step = serializers.PrimaryKeyRelatedField(read_only=True)
    answered = serializers.BooleanField(source="is_answered", read_only=True)

    class Meta:
        model = Consultation
        fields = [
            "id",
            "step",
            "asked_by",
            "colleague",
            "colleague_username",
            "question",
            "asked_at",
            "answered",
            "answer",
            "answered_at",
        ]


class ConsultInputSerializer(serializers.Serializer):
    colleague = serializers.SlugRelatedField(
        slug_field="username",
        queryset=User.objects.all(),
        error_messages={"does_not_exist": "Nobody has the username “{value}”."},
        help_text="The username of the reviewer or leader asked.",
    )
    question = FreeTextField()


class AnswerInputSerializer(serializers.Serializer):
    answer = FreeTextField()


class AssignInputSerializer(serializers.Serializer):
    to = serializers.SlugRelatedField(
        slug_field="username",
        queryset=User.objects.all(),
        error_messages={"does_not_exist": "Nobody has the username “{value}”."},
        help_text="The username of the colleague the step is handed to.",
    )


class StepSerializer(serializers.ModelSerializer):
    # What people read ("IT review", or a person's name); the group's code for integrations.
    reviewer = serializers.CharField(source="reviewer_label", read_only=True)
    reviewer_group = serializers.SlugRelatedField(
        source="group", slug_field="name", read_only=True, allow_null=True
    )
    decided_by = serializers.StringRelatedField(allow_null=True)
    decided_for = serializers.StringRelatedField(allow_null=True)
    # Null on the steps of a vendor's review, which belong to the vendor, not to a request.
    request = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    vendor = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    consultations = ConsultationSerializer(many=True, read_only=True)
    carried_from = serializers.PrimaryKeyRelatedField(
        read_only=True,
        allow_null=True,
        help_text="The step of an earlier round whose approval this step carries over.",
    )
    assignee = PersonSerializer(
        read_only=True,
        allow_null=True,
        help_text="Who took this step or was handed it (null: the whole group's); kept as "
        "history once the step is closed.",
    )

    class Meta:
        model = ApprovalStep
        fields = [
            "id",
            "request",
            "vendor",
            "kind",
            "round",
            "stage",
            "side",
            "reviewer",
            "reviewer_group",
            "state",
            "rule_name",
            "reasons",
            "opened_at",
            "due_at",
            "escalated_at",
            "decided_by",
            "decided_for",
            "decided_at",
            "comment",
            "consultations",
            "carried_from",
            "assignee",
            "assigned_at",
        ]


class DecisionSerializer(serializers.Serializer):
    comment = FreeTextField(required=False, allow_blank=True, default="")


class ApprovalRuleSerializer(serializers.ModelSerializer):
    categories = serializers.SlugRelatedField(
        slug_field="slug", many=True, queryset=Category.objects.all(), required=False
    )
    departments = serializers.SlugRelatedField(
        slug_field="cost_centre", many=True, queryset=Department.objects.all(), required=False
    )
    reviewer_group = serializers.SlugRelatedField(
        slug_field="name", queryset=Group.objects.all(), required=False, allow_null=True
    )
    escalation_group = serializers.SlugRelatedField(
        slug_field="name", queryset=Group.objects.all(), required=False, allow_null=True
    )
    reviewer_user = serializers.SlugRelatedField(
        slug_field="username", queryset=User.objects.all(), required=False, allow_null=True
    )
    escalation_user = serializers.SlugRelatedField(
        slug_field="username", queryset=User.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = ApprovalRule
        exclude = ["updated_at"]


class PreviewRequestSerializer(serializers.Serializer):
    """Either an existing request, or the facts of a draft."""

    request = serializers.IntegerField(required=False)
    total = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True
    )
    category = serializers.SlugRelatedField(
        slug_field="slug", queryset=Category.objects.all(), required=False, allow_null=True
    )
    data_classification = serializers.ChoiceField(
        choices=DataClassification.choices, required=False, allow_blank=True
    )
    personal_data = serializers.BooleanField(required=False, allow_null=True, default=None)
    over_budget = serializers.BooleanField(required=False, allow_null=True, default=None)
    vendor_status = serializers.CharField(required=False, allow_blank=True)
    vendor_risk_tier = serializers.CharField(required=False, allow_blank=True)
    department = serializers.SlugRelatedField(
        slug_field="cost_centre", queryset=Department.objects.all(), required=False, allow_null=True
    )


class PlannedStepSerializer(serializers.Serializer):
    reviewer = serializers.CharField(source="reviewer_label")
    side = serializers.CharField()
    stage = serializers.IntegerField()
    rule = serializers.CharField(source="rule_name")
    reasons = serializers.ListField(child=serializers.CharField())


class PreviewSerializer(serializers.Serializer):
    auto_approved_by = serializers.CharField(allow_null=True)
    auto_approval_reasons = serializers.ListField(child=serializers.CharField())
    steps = PlannedStepSerializer(many=True)
    warnings = serializers.ListField(
        child=serializers.CharField(),
        help_text="Reviewer groups too small to keep four eyes: whose steps would go to the "
        "side's leader, and when.",
    )


# Rule changes (issue #32) ------------------------------------------------------------------


class RuleSetVersionListSerializer(serializers.ModelSerializer):
    created_by = serializers.StringRelatedField(allow_null=True)  # none for the first version

    class Meta:
        model = RuleSetVersion
        fields = ["number", "created_at", "created_by", "reason", "changes"]


class RuleSetVersionSerializer(RuleSetVersionListSerializer):
    class Meta(RuleSetVersionListSerializer.Meta):
        fields = [*RuleSetVersionListSerializer.Meta.fields, "rules"]


class BacktestSerializer(serializers.Serializer):
    state = serializers.CharField(source="backtest_state")
    done = serializers.IntegerField(source="backtest_done")
    total = serializers.IntegerField(source="backtest_total")
    current = serializers.SerializerMethodField(
        help_text="Whether it ran on the draft as it is now (needed to submit)."
    )
    result = serializers.JSONField(source="backtest_result", allow_null=True)

    def get_current(self, draft) -> bool:
        return rule_drafts.backtest_is_current(draft)


class RuleDraftSerializer(serializers.ModelSerializer):
    based_on = serializers.IntegerField(source="based_on.number")
    author = serializers.StringRelatedField()
    decided_by = serializers.StringRelatedField(allow_null=True)
    emergency_by = serializers.StringRelatedField(allow_null=True)
    published_version = serializers.IntegerField(
        source="published_version.number", allow_null=True, default=None
    )
    changes = serializers.SerializerMethodField()
    backtest = BacktestSerializer(source="*")

    class Meta:
        model = RuleDraft
        fields = [
            "id", "state", "based_on", "author", "created_at", "reason", "changes", "rules",
            "backtest", "submitted_at", "decided_by", "decided_at", "published_version",
            "emergency_by", "emergency_reason", "emergency_at",
        ]  # fmt: skip

    def get_changes(self, draft) -> list[str]:
        return rule_drafts.changes_of(draft)


class RuleDraftCreateSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")
    from_version = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**31 - 1,
        help_text="Start from this version's rules (a restore).",
    )
    rules = serializers.JSONField(
        required=False,
        help_text="The whole rule set, in a version's shape; rules with an id not in use are new.",
    )


class EmergencyPublishSerializer(serializers.Serializer):
    reason = FreeTextField(help_text="Why this cannot wait for a second admin.")


class RejectDraftSerializer(serializers.Serializer):
    comment = FreeTextField(required=False, allow_blank=True, default="")
