"""API fuzzing (SPEC §7, §9): schemathesis generates requests from the OpenAPI schema served at
/api/schema/ by the WSGI application, and sends them in-process with a token, as a requester,
an IT reviewer and an admin. Whatever it sends, valid or not, the API must not answer 5xx, and
what it answers must be documented: its status (status_code_conformance), its content type and
its body (response_schema_conformance). There is no list of known mismatches: the schema tells
the truth or the test fails.

One test per role and operation, each bounded (10 valid and 10 invalid examples, derandomized
so every run sends the same cases, no deadline; a few minutes in all); half of the cases aim at
objects that exist (a request, its steps, a rule, a vendor), the others at generated ids.
`TANDEM_FUZZ_EXAMPLES=200` runs the deep version.

(schemathesis.pytest.from_fixture would do the looping, but its pytest plugin writes
`node._nodeid`, which pytest 9.2 no longer has: each test here asks the served schema for its
operation and runs the hypothesis strategy itself.)"""

import os

import pytest
import schemathesis
from django.core import signals
from django.core.files.base import ContentFile
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.tokens import create_token
from approvals import workflow
from approvals.models import ApprovalRule
from tests.factories import PurchaseRequestFactory, VendorFactory
from tests.security.test_permission_matrix import PNG

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
]
ROLES = ["requester", "it_reviewer", "admin_user"]
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}
# Per generation mode (valid, invalid). TANDEM_FUZZ_EXAMPLES=200 for a deeper run by hand.
EXAMPLES = int(os.environ.get("TANDEM_FUZZ_EXAMPLES", "10"))


def _operations() -> list[str]:
    """The operations of the schema, to name one test each (the test itself fuzzes the schema
    the running application serves)."""
    document = SchemaGenerator().get_schema(request=None, public=True)
    return [
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method in item
        if method in HTTP_METHODS
    ]


OPERATIONS = _operations()


@pytest.fixture(params=ROLES)
def caller(request, db):
    """Who sends the generated requests: a requester, an IT reviewer or an admin."""
    return request.getfixturevalue(request.param)


@pytest.fixture
def served(db, caller, admin_user, requester, it_reviewer):
    """The schema as /api/schema/ serves it to the caller, and ids of objects that exist."""
    # The handler runs in this thread, on this test's connection and transaction: like Django's
    # test client, keep it from closing that connection when each request ends.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        in_review = workflow.submit_request(
            PurchaseRequestFactory(requester=requester), by=requester
        )
        draft = PurchaseRequestFactory(requester=requester)
        vendor = VendorFactory(status="prospective")
        certificate = in_review.vendor.certificates.create(
            kind="iso27001",
            issuer="Auditors Ltd",
            issued_on="2026-01-01",
            expires_on="2027-01-01",
            uploaded_by=admin_user,
            document=ContentFile(PNG, name="certificate.png"),
            document_name="certificate.png",
            document_type="image/png",
        )
        token = create_token(caller, name="Schemathesis", scopes=["read", "write", "decide"])[1]
        headers = {"Authorization": f"Bearer {token}"}
        schema = schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler(), headers=headers)
        existing = {
            "/api/requests/{id}/": {"id": draft.pk},
            "/api/requests/{request_pk}/": {"request_pk": in_review.pk},
            "/api/requests/{id}/withdraw/": {"id": in_review.pk},
            "/api/requests/{id}/events/": {"id": in_review.pk},
            "/api/requests/{id}/comments/": {"id": in_review.pk},
            "/api/steps/{id}/": {"id": in_review.steps.first().pk},
            "/api/rules/{id}/": {"id": ApprovalRule.objects.order_by("pk").first().pk},
            "/api/vendors/{id}/": {"id": vendor.pk},
            "/api/vendors/{id}/certificates/{certificate_pk}/": {
                "id": in_review.vendor_id,
                "certificate_pk": certificate.pk,
            },
        }
        yield schema, headers, existing
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def _existing_ids(path: str, existing: dict) -> dict | None:
    """Path parameters naming real objects for `path`: the longest matching prefix's."""
    matches = [prefix for prefix in existing if path.startswith(prefix.rstrip("/"))]
    if not matches or "{" not in path:
        return None
    return existing[max(matches, key=len)]


@pytest.mark.parametrize("label", OPERATIONS)
def test_the_api_answers_generated_requests_without_5xx_and_as_documented(label, served):
    schema, headers, existing = served
    method, path = label.split(" ", 1)
    operation = schema[path][method]
    strategies = [operation.as_strategy(mode) for mode in GenerationMode]
    fixed = _existing_ids(path, existing)
    if fixed:
        strategies += [
            operation.as_strategy(mode, path_parameters=fixed) for mode in GenerationMode
        ]

    @given(case=st.one_of(strategies))
    @settings(
        max_examples=EXAMPLES * len(GenerationMode),
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case):
        case.call_and_validate(headers=headers, checks=CHECKS)

    fuzz()
