from rest_framework import serializers

from ..models import ApiToken, Delegation, Scope, User


class PersonSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "name"]

    def get_name(self, user) -> str:
        return str(user)


class DelegationSerializer(serializers.ModelSerializer):
    delegator = PersonSerializer(read_only=True)
    delegate = PersonSerializer(read_only=True)
    active = serializers.SerializerMethodField()

    class Meta:
        model = Delegation
        fields = ["id", "delegator", "delegate", "starts_at", "ends_at", "active"]

    def get_active(self, delegation) -> bool:
        now = self.context["now"]
        return delegation.starts_at <= now < delegation.ends_at


class DelegationCreateSerializer(serializers.Serializer):
    delegate = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), help_text="The id of the person who acts for you."
    )
    starts_at = serializers.DateTimeField(required=False, help_text="Defaults to now.")
    ends_at = serializers.DateTimeField()


class ApiTokenSerializer(serializers.ModelSerializer):
    active = serializers.BooleanField(source="is_usable", read_only=True)

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "prefix",
            "scopes",
            "created_at",
            "expires_at",
            "revoked_at",
            "last_used_at",
            "active",
        ]


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    token = serializers.CharField(read_only=True, help_text="Shown this once; store it now.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]


class ApiTokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=Scope.personal()), allow_empty=False, max_length=3
    )
    expires_at = serializers.DateTimeField(
        required=False, help_text="At most a year ahead; defaults to 90 days."
    )
