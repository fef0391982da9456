"""The API's token endpoint (/api/auth/token/): a username and password, and the code of the
person's authenticator app where the sign-in page would ask for one (accounts.two_factor), give
a scoped, expiring API token (accounts.tokens), the kind /api/tokens/ makes. DRF's unscoped,
never-expiring tokens are no longer made nor accepted.

Credentials are bounded: django-axes records every failed sign-in with its username (255
characters in its table), and an unbounded username made that record fail with a 500 on
PostgreSQL."""

from django.contrib.auth import authenticate
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.schema import FIELD_ERRORS, ErrorSerializer

from .. import tokens, two_factor
from ..models import Scope, User
from .serializers import ApiTokenCreatedSerializer

USERNAME_LENGTH = User._meta.get_field("username").max_length
CREDENTIALS_REFUSED = "Unable to log in with provided credentials."


class ObtainTokenSerializer(serializers.Serializer):
    username = serializers.CharField(write_only=True, max_length=USERNAME_LENGTH)
    password = serializers.CharField(
        style={"input_type": "password"}, trim_whitespace=False, write_only=True, max_length=4096
    )
    code = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        write_only=True,
        help_text="The code your authenticator app shows, or one of your recovery codes. "
        "Required when you have set up two-factor sign-in (as on the sign-in page); "
        "without it the answer is 400 with an error on `code`.",
    )
    name = serializers.CharField(
        required=False,
        max_length=100,
        help_text="What the token is for; defaults to when it was made.",
    )
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=Scope.personal()),
        required=False,
        allow_empty=False,
        max_length=3,
        help_text="Defaults to read, write and decide.",
    )
    expires_at = serializers.DateTimeField(
        required=False, help_text="At most a year ahead; defaults to 90 days."
    )


class ObtainTokenView(APIView):
    """Makes a scoped, expiring API token for a username and password (and two-factor code).
    Send it as `Authorization: Bearer tdm_…`; it is shown this once."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=ObtainTokenSerializer,
        responses={
            200: ApiTokenCreatedSerializer,
            400: OpenApiResponse(
                response=FIELD_ERRORS,
                description="Wrong username or password (`non_field_errors`); or the two-factor "
                "`code` is needed, or is wrong (`code`); or another field in error.",
            ),
            403: OpenApiResponse(
                response=ErrorSerializer,
                description="The person's role needs two-factor sign-in and they have not set "
                "up an authenticator app yet.",
            ),
        },
        auth=[],
    )
    def post(self, request):
        serializer = ObtainTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = authenticate(request, username=data["username"], password=data["password"])
        if user is None:
            raise serializers.ValidationError({"non_field_errors": [CREDENTIALS_REFUSED]})
        two_factor.check_second_factor(request._request, user, data.get("code", ""))
        now = timezone.now()
        row, token = tokens.create_token(
            user,
            name=data.get("name") or f"Signed in with a password {now:%Y-%m-%d %H:%M:%S.%f}",
            scopes=data.get("scopes") or [value for value, _ in Scope.personal()],
            expires_at=data.get("expires_at"),
        )
        row.token = token
        return Response(ApiTokenCreatedSerializer(row).data)


obtain_token = ObtainTokenView.as_view()
