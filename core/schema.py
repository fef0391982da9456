"""The OpenAPI schema documents every status an operation answers (SPEC §7), not only its
success: drf-spectacular's AutoSchema with the error responses each kind of operation can give,
so clients and schemathesis' status-code check see the API as it is.

- 400 (field errors, or `detail`): any operation that takes a body or query parameters.
- 401 (not signed in) and 403 (signed in but not allowed, or a session request without its
  CSRF token): every operation that needs a user.
- 404: every operation on an object (its id is in the path: not found, or not yours to see),
  every paged list (a page or cursor that does not exist) and every choice of `format` (one
  that does not exist).
- 409 (the state does not allow it, or a concurrent change won): writes to an object.
- 413 (the body is larger than Tandem reads) and 415 (a Content-Type it does not read, or a
  multipart body whose parts cannot be told apart): every operation that takes a body."""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import permissions, serializers

WRITE_METHODS = {"POST", "PUT", "PATCH"}


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, in words for the user.")


FIELD_ERRORS = {
    "type": "object",
    "description": (
        "Each invalid field (or parameter) with its messages, `non_field_errors` for the "
        "object as a whole, or `detail` for the body as a whole."
    ),
    "additionalProperties": {},
}

DESCRIPTIONS = {
    "400": "Invalid input: the fields (or parameters) in error, with messages.",
    "401": "Not signed in: no token or session, or an invalid one.",
    "403": "Signed in but not allowed; the message says why.",
    "404": "Not found, or not visible to the caller (or a page that does not exist).",
    "409": "The object's state does not allow this, or a concurrent change won.",
    "413": "The request body is larger than Tandem accepts.",
    "415": "The body's Content-Type is not one this operation reads (or its parts are not).",
}


class ExactSchema(dict):
    """A response schema used as written: drf-spectacular neither wraps it in a list nor pages
    it (for a list whose pages have two shapes). `serializers` are registered as components,
    for the schema's references to them."""

    def __init__(self, schema: dict, *, serializers=()):
        super().__init__(schema)
        self.serializers = list(serializers)


class AutoSchema(SpectacularAutoSchema):
    def _get_response_for_code(
        self, serializer, status_code, media_types=None, direction="response"
    ):
        if isinstance(serializer, ExactSchema):
            for component in serializer.serializers:
                self.resolve_serializer(component, direction)
            media_types = media_types or self.map_renderers("media_type")
            schema = dict(serializer)
            return {
                "content": {media_type: {"schema": schema} for media_type in media_types},
                "description": schema.pop("description", ""),
            }
        return super()._get_response_for_code(serializer, status_code, media_types, direction)

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        media_types = self.map_renderers("media_type")
        for code in self.error_statuses():
            if code in responses:
                continue
            body = FIELD_ERRORS if code == "400" else ErrorSerializer
            response = self._get_response_for_code(body, code, media_types, direction)
            response["description"] = DESCRIPTIONS[code]
            responses[code] = response
        return responses

    def error_statuses(self) -> list[str]:
        codes = []
        takes_body = self.method in WRITE_METHODS
        on_object = "{" in self.path
        if takes_body or self._has_query_parameters():
            codes.append("400")
        if self._needs_user():
            codes += ["401", "403"]
        paged = self._is_list_view() and self._get_paginator() is not None
        if on_object or paged or "format" in self._query_parameter_names():
            codes.append("404")
        if on_object and self.method in WRITE_METHODS | {"DELETE"}:
            codes.append("409")
        if takes_body:
            codes += ["413", "415"]
        return codes

    def _has_query_parameters(self) -> bool:
        return bool(self._query_parameter_names())

    def _query_parameter_names(self) -> set[str]:
        """(`format` chooses the renderer; one that does not exist is a 404.)"""
        return {p["name"] for p in self._get_parameters() or [] if p.get("in") == "query"}

    def _needs_user(self) -> bool:
        checks = self.view.get_permissions()
        return bool(checks) and not any(isinstance(p, permissions.AllowAny) for p in checks)
