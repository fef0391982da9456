from rest_framework import serializers

from ..models import KINDS, Delivery


class PreferencesSerializer(serializers.Serializer):
    """{kind: delivery} for each kind a person chooses for. On PUT, any of the kinds: those left
    out keep their choice; a kind or choice that is not one is refused, naming it."""

    def get_fields(self):
        return {
            kind.value: serializers.ChoiceField(
                choices=Delivery.choices,
                required=False,
                help_text=f"{kind.label}: {setting.explains} Default: {setting.default}.",
            )
            for kind, setting in KINDS.items()
        }

    def validate(self, attrs):
        unknown = [str(key) for key in self.initial_data if key not in self.fields]
        if unknown:
            raise serializers.ValidationError(
                {
                    key[:50]: f"Unknown kind: use {', '.join(k.value for k in KINDS)}."
                    for key in unknown
                }
            )
        if not attrs:
            raise serializers.ValidationError(
                f"Name at least one kind: {', '.join(k.value for k in KINDS)}."
            )
        return attrs
