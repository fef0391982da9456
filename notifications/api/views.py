from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import services
from .serializers import PreferencesSerializer


class PreferencesView(APIView):
    """How the caller hears of each kind of notification by e-mail and Slack: `at_once`,
    `digest` (one e-mail a day listing them) or `off`. In the app every notification always
    shows."""

    @extend_schema(responses={200: PreferencesSerializer})
    def get(self, request):
        return Response(services.preferences_of(request.user))

    @extend_schema(
        request=PreferencesSerializer,
        responses={
            200: PreferencesSerializer,
            400: OpenApiResponse(description="A kind or choice that is not one, named."),
        },
    )
    def put(self, request):
        serializer = PreferencesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(services.set_preferences(request.user, serializer.validated_data))
