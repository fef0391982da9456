"""`Idempotency-Key` for API calls that must act once (issue 18: mark-ordered records the PO
once, however often the ERP retries). The first call with a key runs and its response is kept
in the same transaction; a repeat with the same key and the same call gets that response again
(header `Idempotent-Replayed: true`); the same key for a different call is refused (422). Two
calls with one key at the same moment: the second waits for the first (unique key) and then
gets its response."""

import hashlib
import json

from django.db import IntegrityError, transaction
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response

from .models import IdempotencyKey

HEADER = "Idempotency-Key"


class KeyReused(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was already used for a different call."
    default_code = "idempotency_key_reused"


def _fingerprint(request, scope: str) -> str:
    body = json.dumps(request.data, sort_keys=True, default=str)
    return hashlib.sha256(f"{scope}\n{request.method}\n{request.path}\n{body}".encode()).hexdigest()


def idempotent(request, *, scope: str, run) -> Response:
    """Runs `run()` (which returns a DRF Response) at most once per caller and key."""
    key = request.headers.get(HEADER)
    if key is None:
        return run()
    if not (1 <= len(key) <= 255) or not key.isascii() or not key.isprintable():
        raise ValidationError({HEADER: ["Send 1 to 255 printable ASCII characters."]})
    fingerprint = _fingerprint(request, scope)
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = IdempotencyKey.objects.create(
                    user=request.user, key=key, scope=scope, fingerprint=fingerprint
                )
        except IntegrityError:
            earlier = IdempotencyKey.objects.get(user=request.user, key=key)
            if earlier.fingerprint != fingerprint:
                raise KeyReused() from None
            return Response(
                earlier.response,
                status=earlier.status_code,
                headers={"Idempotent-Replayed": "true"},
            )
        response = run()
        IdempotencyKey.objects.filter(pk=record.pk).update(
            status_code=response.status_code,
            response=json.loads(json.dumps(response.data, default=str)),
        )
    return response
