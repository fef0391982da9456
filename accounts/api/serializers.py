from rest_framework import serializers

from ..models import Delegation, User


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
