"""How the OpenAPI schema describes API tokens (drf-spectacular)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.tokens.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "tdm_…",
            "description": "A named API token with scopes read, write and/or decide "
            "(made at /api/tokens/ or in the admin).",
        }
