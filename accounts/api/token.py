"""The API's token endpoint (/api/auth/token/): DRF's, with bounded credentials. django-axes
records every failed sign-in with its username (255 characters in its table): an unbounded
username made that record fail with a 500 on PostgreSQL."""

from rest_framework import serializers
from rest_framework.authtoken import serializers as authtoken
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.settings import api_settings

from ..models import User

USERNAME_LENGTH = User._meta.get_field("username").max_length


class AuthTokenSerializer(authtoken.AuthTokenSerializer):
    username = serializers.CharField(label="Username", write_only=True, max_length=USERNAME_LENGTH)
    password = serializers.CharField(
        label="Password",
        style={"input_type": "password"},
        trim_whitespace=False,
        write_only=True,
        max_length=4096,
    )


# DRF's token view names its own parsers: give it ours (JSON with a nesting limit).
obtain_token = ObtainAuthToken.as_view(
    serializer_class=AuthTokenSerializer, parser_classes=api_settings.DEFAULT_PARSER_CLASSES
)
