from decimal import Decimal

from django.utils import timezone
from rest_framework import serializers

from accounts.models import Department
from audit.models import AuditEvent
from core.api import FreeTextField
from core.validation import (
    CURRENCY_MESSAGE,
    currency_choices,
    validate_date_in_range,
    validate_one_line,
)
from vendors.models import Vendor

from ..models import (
    MAX_LINE_ITEMS,
    MAX_QUANTITY,
    MAX_UNIT_PRICE,
    Category,
    Comment,
    LineItem,
    PurchaseRequest,
)
from ..services import EDITABLE_FIELDS

POSITIVE = Decimal("0.01")


class LineItemSerializer(serializers.ModelSerializer):
    quantity = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=POSITIVE, max_value=MAX_QUANTITY
    )
    unit_price = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=POSITIVE, max_value=MAX_UNIT_PRICE
    )
    amount = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)

    class Meta:
        model = LineItem
        fields = ["description", "quantity", "unit_price", "amount"]


class PurchaseRequestSerializer(serializers.ModelSerializer):
    """A purchase request as the API shows it. Writes go through `intake.services`, so the API
    follows the same rules as the pages: any category or vendor resolves here, and the service
    refuses one a request may not name (`services.naming_errors`) in the form's words."""

    requester = serializers.StringRelatedField()
    category = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.all(), required=False, allow_null=True
    )
    department = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(), required=False, allow_null=True
    )
    vendor = serializers.PrimaryKeyRelatedField(
        queryset=Vendor.objects.all(), required=False, allow_null=True
    )
    currency = serializers.ChoiceField(
        choices=currency_choices(),
        required=False,
        error_messages={"invalid_choice": CURRENCY_MESSAGE},
    )
    line_items = LineItemSerializer(many=True, required=False, max_length=MAX_LINE_ITEMS)
    waiting_on = serializers.CharField(read_only=True)

    class Meta:
        model = PurchaseRequest
        fields = [
            "id",
            "number",
            "state",
            "requester",
            *EDITABLE_FIELDS,
            "line_items",
            "total_cost",
            "waiting_on",
            "created_at",
            "updated_at",
            "submitted_at",
            "decided_at",
            "po_number",
            "ordered_on",
            "received_on",
        ]
        read_only_fields = ["state"]


class PurchaseRequestListSerializer(serializers.ModelSerializer):
    """A purchase request as lists show it: no line items or long texts (the request's own
    URL, `/api/requests/{id}/`, has everything). Read-only."""

    requester = serializers.StringRelatedField()
    waiting_on = serializers.CharField(read_only=True)

    class Meta:
        model = PurchaseRequest
        fields = [
            "id",
            "number",
            "state",
            "requester",
            "title",
            "category",
            "department",
            "vendor",
            "proposed_vendor_name",
            "needed_by",
            "currency",
            "total_cost",
            "waiting_on",
            "created_at",
            "updated_at",
            "submitted_at",
            "decided_at",
        ]
        read_only_fields = fields


class MarkOrderedSerializer(serializers.Serializer):
    po_number = serializers.CharField(max_length=50, validators=[validate_one_line])
    ordered_on = serializers.DateField(
        default=timezone.localdate, validators=[validate_date_in_range]
    )


class CloseSerializer(serializers.Serializer):
    received_on = serializers.DateField(
        default=timezone.localdate, validators=[validate_date_in_range]
    )


class WithdrawSerializer(serializers.Serializer):
    reason = FreeTextField(required=False, allow_blank=True, default="")


class CommentSerializer(serializers.ModelSerializer):
    author = serializers.StringRelatedField()
    body = FreeTextField(trim_whitespace=True)

    class Meta:
        model = Comment
        fields = ["id", "author", "body", "created_at"]
        read_only_fields = ["created_at"]


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.StringRelatedField(allow_null=True)  # empty for the system
    on_behalf_of = serializers.StringRelatedField(allow_null=True)

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "occurred_at",
            "actor",
            "on_behalf_of",
            "kind",
            "from_state",
            "to_state",
            "payload",
            "sequence",
            "prev_hash",
            "hash",
        ]


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "slug", "is_catalog"]
