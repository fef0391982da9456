"""Slack's interactivity endpoint (Slack app → Interactivity → Request URL): button clicks in
"for your decision" messages and submitted reason modals. Slack signs every request; an
unsigned, altered or stale one (more than 5 minutes) decides nothing."""

import json

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import slack


class SlackInteractionSerializer(serializers.Serializer):
    payload = serializers.CharField(
        max_length=100_000,
        help_text="Slack's interaction payload, as JSON (block_actions or view_submission).",
    )


class SlackInteractivityView(APIView):
    authentication_classes = []  # Slack's signature is the authentication
    permission_classes = [AllowAny]
    parser_classes = [FormParser]

    @extend_schema(
        operation_id="slack_interactivity",
        summary="Slack interactivity (decision buttons and reason modals)",
        description=(
            "Called by Slack, signed with the app's signing secret (headers "
            "`X-Slack-Signature` and `X-Slack-Request-Timestamp`, at most 5 minutes old). A "
            "click decides only as the Tandem user the Slack user maps to, and only what "
            "approvals' policy lets that user decide. Answers 200 with nothing, or with the "
            "reason errors of a modal."
        ),
        request=SlackInteractionSerializer,
        responses={
            200: inline_serializer(
                "SlackInteractionAnswer",
                {
                    "response_action": serializers.CharField(required=False),
                    "errors": serializers.DictField(child=serializers.CharField(), required=False),
                },
            ),
            401: OpenApiResponse(description="The request is not signed by Slack, or is stale."),
            404: OpenApiResponse(description="No Slack app is configured."),
        },
        tags=["slack"],
    )
    def post(self, request):
        body = request.body  # the raw bytes the signature covers, before any parsing
        if not slack.configured():
            return Response({"detail": "No Slack app is configured."}, status.HTTP_404_NOT_FOUND)
        signed = slack.signature_is_valid(
            body,
            request.headers.get("X-Slack-Request-Timestamp"),
            request.headers.get("X-Slack-Signature"),
        )
        if not signed:
            return Response(
                {"detail": "The request is not signed by Slack, or is stale."},
                status.HTTP_401_UNAUTHORIZED,
            )
        serializer = SlackInteractionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            payload = json.loads(serializer.validated_data["payload"])
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            return Response({"payload": ["Not a JSON object."]}, status.HTTP_400_BAD_REQUEST)
        answer = slack.handle_interaction(payload)
        return Response(answer or {}, status.HTTP_200_OK)
