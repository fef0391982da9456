"""Who may do what (SPEC §1, §3, §7, §9), as one table: every page and API endpoint against every
role, with the status each must get. One parametrised test walks every cell.

Cells:
- a status code: what the response must be; for a write row, the change happened exactly when
  the status is 2xx;
- LOGIN: a redirect to the sign-in page (anonymous visitors of pages);
- DONE / DENIED: pages answer a form post with a redirect either way (the message says why);
  DONE means the change happened, DENIED that it did not.

The data (one request in review with an IT and a procurement step, a draft, an approved, an
ordered and a closed request of the requester, vendors, a certificate, an attachment, a
notification, a delegation) is built once per module inside a transaction; every cell runs in
a savepoint of it and is rolled back, so a write in one cell never leaks into another."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client, override_settings
from django.urls import Resolver404, resolve
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import roles
from accounts.models import Delegation
from accounts.tokens import create_token
from approvals import workflow
from approvals.models import ApprovalRule, ApprovalStep
from budgets import services as budget_services
from budgets.models import Budget
from intake.models import Attachment, PurchaseRequest
from notifications.models import Channel, Notification
from reach.models import TokenKind
from reach.services import issue_token
from tests.factories import PurchaseRequestFactory, UserFactory, VendorFactory
from tests.security.conftest import PASSWORD, delegate_of
from tests.support import rolled_back_atomic
from vendors.models import (
    AnswerOption,
    Certificate,
    Contract,
    SecurityQuestion,
    Vendor,
    VendorRating,
)

ROLES = (
    "anonymous",
    "requester",  # rita, who filed the requests
    "other_requester",  # oscar, an employee with no role
    "it_reviewer",  # ivan
    "procurement",  # paul
    "cio",  # cora
    "cpo",  # cleo
    "finance",  # fiona
    "admin",  # ada, staff and superuser
    "delegate",  # dora, no group of her own, holds ivan's rights now
    "ex_delegate",  # dan, holds ivan's rights only yesterday and from tomorrow
)

LOGIN = "login"
DONE = "done"
DENIED = "denied"

# A 1x1 PNG, small enough to read.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/PchI7wAAAABJRU5ErkJggg=="
)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@dataclass
class World:
    users: dict
    tokens: dict  # role -> API token
    sessions: dict  # role -> session key
    ids: dict
    media_root: Path


@dataclass
class Row:
    method: str
    path: str  # with {placeholders} from World.ids
    cells: tuple
    data: dict | Callable | None = None
    effect: Callable | None = None  # World -> bool: did the write happen?

    def url(self, world: World) -> str:
        return self.path.format(**world.ids)

    def payload(self, world: World):
        if isinstance(self.data, str):  # a raw JSON body
            return self.data
        data = self.data(world) if callable(self.data) else (self.data or {})
        return {k: v.format(**world.ids) if isinstance(v, str) else v for k, v in data.items()}


def state(name):
    return lambda w: PurchaseRequest.objects.get(pk=w.ids[name]).state


def step_state(name):
    return lambda w: ApprovalStep.objects.get(pk=w.ids[name]).state


def vendor_status(name):
    return lambda w: Vendor.objects.get(pk=w.ids[name]).status


def _png(w):
    return {"attachments": SimpleUploadedFile("spec.png", PNG, content_type="image/png")}


def _rule_payload(w):
    return {
        "name": "Matrix rule",
        "reviewer_group": roles.FINANCE,
        "side": "finance",
        "stage": 3,
        "min_total": "100000.00",
    }


def _new_request_form(w):
    return {
        "title": "Filed through the page",
        "currency": "EUR",
        "billing": "one_off",
        "handles_personal_data": "unknown",
        "items-TOTAL_FORMS": "0",
        "items-INITIAL_FORMS": "0",
    }


# fmt: off
#        anon    req     other   it      proc    cio     cpo     finance admin   deleg   ex-deleg
MATRIX = {
    # Sign-in
    "sign-in page": Row("GET", "/accounts/login/",
        (200,    302,    302,    302,    302,    302,    302,    302,    302,    302,    302)),
    "token for rita's password": Row("POST", "/api/auth/token/",
        (200,    200,    200,    200,    200,    200,    200,    200,    200,    200,    200),
        data={"username": "rita", "password": PASSWORD}),
    # Requests: pages
    "my requests": Row("GET", "/requests/",
        (LOGIN,  200,    200,    200,    200,    200,    200,    200,    200,    200,    200)),
    "new request form": Row("GET", "/requests/new/",
        (LOGIN,  200,    200,    200,    200,    200,    200,    200,    200,    200,    200)),
    "file a new request": Row("POST", "/requests/new/",
        (LOGIN,  DONE,   DONE,   DONE,   DONE,   DONE,   DONE,   DONE,   DONE,   DONE,   DONE),
        data=_new_request_form,
        effect=lambda w: PurchaseRequest.objects.filter(title="Filed through the page").exists()),
    "duplicate check": Row("GET", "/requests/duplicates/?title=Design",
        (LOGIN,  200,    200,    200,    200,    200,    200,    200,    200,    200,    200)),
    "vendor picker": Row("GET", "/requests/vendor-search/?q=Acme",
        (LOGIN,  200,    200,    200,    200,    200,    200,    200,    200,    200,    200)),
    "approvers will be (form preview)": Row("GET", "/approvals/approvers-preview/?title=X",
        (LOGIN,  200,    200,    200,    200,    200,    200,    200,    200,    200,    200)),
    "request in review": Row("GET", "/requests/{pr}/",
        (LOGIN,  200,    404,    200,    200,    200,    200,    200,    200,    200,    404)),
    "draft": Row("GET", "/requests/{draft}/",
        (LOGIN,  200,    404,    404,    404,    200,    200,    404,    200,    404,    404)),
    "edit the draft": Row("GET", "/requests/{draft}/edit/",
        (LOGIN,  200,    404,    404,    404,    403,    403,    404,    200,    404,    404)),
    "edit a request in review": Row("GET", "/requests/{pr}/edit/",
        (LOGIN,  302,    404,    403,    403,    403,    403,    403,    302,    403,    404)),
    "submit the draft": Row("POST", "/requests/{draft}/submit/",
        (LOGIN,  DONE,   404,    404,    404,    DENIED, DENIED, 404,    DONE,   404,    404),
        effect=lambda w: state("draft")(w) == "in_review"),
    "withdraw (page)": Row("POST", "/requests/{pr}/withdraw/",
        (LOGIN,  DONE,   404,    DENIED, DENIED, DENIED, DENIED, DENIED, DONE,   DENIED, 404),
        effect=lambda w: state("pr")(w) == "withdrawn"),
    "mark ordered (page)": Row("POST", "/requests/{approved}/mark-ordered/",
        (LOGIN,  DENIED, 404,    DENIED, DONE,   DENIED, DONE,   DENIED, DONE,   DENIED, 404),
        data={"po_number": "PO-1", "ordered_on": "2026-01-15"},
        effect=lambda w: state("approved")(w) == "ordered"),
    "close (page)": Row("POST", "/requests/{ordered}/close/",
        (LOGIN,  DONE,   404,    DENIED, DONE,   DENIED, DONE,   DENIED, DONE,   DENIED, 404),
        data={"received_on": "2026-02-01"},
        effect=lambda w: state("ordered")(w) == "closed"),
    "comment (page)": Row("POST", "/requests/{pr}/comments/",
        (LOGIN,  DONE,   404,    DONE,   DONE,   DONE,   DONE,   DONE,   DONE,   DONE,   404),
        data={"body": "A question"},
        effect=lambda w: PurchaseRequest.objects.get(pk=w.ids["pr"]).comments.exists()),
    "attach a file to the draft": Row("POST", "/requests/{draft}/attachments/",
        (LOGIN,  DONE,   404,    404,    404,    DENIED, DENIED, 404,    DONE,   404,    404),
        data=_png,
        effect=lambda w: Attachment.objects.filter(request_id=w.ids["draft"]).exists()),
    "download an attachment": Row("GET", "/requests/{pr}/attachments/{attachment}/",
        (LOGIN,  200,    404,    200,    200,    200,    200,    200,    200,    200,    404)),
    "rate the vendor (page)": Row("POST", "/requests/{closed}/rate/",
        (LOGIN,  DONE,   404,    DONE,   DENIED, DONE,   DENIED, DENIED, DENIED, DENIED, 404),
        data={"delivery": "4", "quality": "5", "support": "3"},
        effect=lambda w: VendorRating.objects.filter(request_id=w.ids["closed"]).exists()),
    # Approvals: pages
    "waiting for me": Row("GET", "/approvals/",
        (LOGIN,  200,    200,    200,    200,    200,    200,    200,    200,    200,    200)),
    "next in my queue": Row("GET", "/approvals/queue/next/?queue=side%3Dit",
        (LOGIN,  302,    302,    302,    302,    302,    302,    302,    302,    302,    302)),
    "rule preview (page)": Row("GET", "/approvals/rules/preview/",
        (LOGIN,  403,    403,    200,    200,    200,    200,    200,    200,    403,    403)),
    "approve the IT step (page)": Row("POST", "/approvals/steps/{it_step}/approve/",
        (LOGIN,  DENIED, 404,    DONE,   DENIED, DENIED, DENIED, DENIED, DENIED, DONE,   404),
        data={"comment": "Fine"},
        effect=lambda w: step_state("it_step")(w) == "approved"),
    "reject the IT step (page)": Row("POST", "/approvals/steps/{it_step}/reject/",
        (LOGIN,  DENIED, 404,    DONE,   DENIED, DENIED, DENIED, DENIED, DENIED, DONE,   404),
        data={"comment": "No budget"},
        effect=lambda w: step_state("it_step")(w) == "rejected"),
    # Decision links (issue 16): Ivan's personal link works for Ivan alone; GET never decides.
    "ivan's decision link": Row("GET", "/decide/{ivan_link}/",
        (LOGIN,  403,    403,    200,    403,    403,    403,    403,    403,    403,    403)),
    "approve with ivan's decision link": Row("POST", "/decide/{ivan_link}/",
        (LOGIN,  403,    403,    DONE,   403,    403,    403,    403,    403,    403,    403),
        data={"decision": "approve"},
        effect=lambda w: step_state("it_step")(w) == "approved"),
    "an unknown decision link": Row("GET", "/decide/not-a-token/",
        (LOGIN,  404,    404,    404,    404,    404,    404,    404,    404,    404,    404)),
    "ask changes on the procurement step (page)": Row(
        "POST", "/approvals/steps/{proc_step}/request-changes/",
        (LOGIN,  DENIED, 404,    DENIED, DONE,   DENIED, DENIED, DENIED, DENIED, DENIED, 404),
        data={"comment": "Attach the quote"},
        effect=lambda w: step_state("proc_step")(w) == "changes_requested"),
    # Vendors: pages
    "vendor list": Row("GET", "/vendors/",
        (LOGIN,  403,    403,    200,    200,    200,    200,    200,    200,    403,    403)),
    "new vendor form": Row("GET", "/vendors/new/",
        (LOGIN,  403,    403,    200,    200,    200,    200,    403,    200,    403,    403)),
    "vendor page": Row("GET", "/vendors/{vendor}/",
        (LOGIN,  403,    403,    200,    200,    200,    200,    200,    200,    403,    403)),
    "edit a vendor": Row("GET", "/vendors/{vendor}/edit/",
        (LOGIN,  403,    403,    200,    200,    200,    200,    403,    200,    403,    403)),
    "start a vendor review (page)": Row("POST", "/vendors/{prospect}/review/",
        (LOGIN,  403,    403,    DONE,   DONE,   DONE,   DONE,   DENIED, DONE,   403,    403),
        effect=lambda w: vendor_status("prospect")(w) == "under_review"),
    "answer the questionnaire (page)": Row("POST", "/vendors/{vendor}/questionnaire/",
        (LOGIN,  403,    403,    DONE,   403,    DONE,   403,    403,    DONE,   403,    403),
        data=lambda w: w.ids["every_answer"],
        effect=lambda w: Vendor.objects.get(pk=w.ids["vendor"]).answers.exists()),
    "add a certificate (page, incomplete)": Row("POST", "/vendors/{vendor}/certificates/",
        (LOGIN,  403,    403,    200,    200,    200,    200,    403,    200,    403,    403)),
    "add a contract (page, incomplete)": Row("POST", "/vendors/{vendor}/contracts/",
        (LOGIN,  403,    403,    200,    200,    200,    200,    403,    200,    403,    403)),
    "certificate document": Row("GET", "/vendors/{vendor}/certificates/{certificate}/document/",
        (LOGIN,  403,    403,    200,    200,    200,    200,    200,    200,    403,    403)),
    # Notifications and out of office
    "inbox": Row("GET", "/notifications/",
        (LOGIN,  200,    200,    200,    200,    200,    200,    200,    200,    200,    200)),
    "mark rita's notification read": Row("POST", "/notifications/read/",
        (LOGIN,  DONE,   DENIED, DENIED, DENIED, DENIED, DENIED, DENIED, DENIED, DENIED, DENIED),
        data={"id": "{notification}"},
        effect=lambda w: Notification.objects.get(pk=w.ids["notification"]).read_at is not None),
    "out of office": Row("GET", "/accounts/out-of-office/",
        (LOGIN,  200,    200,    200,    200,    200,    200,    200,    200,    200,    200)),
    "your time zone": Row("GET", "/accounts/time-zone/",
        (LOGIN,  200,    200,    200,    200,    200,    200,    200,    200,    200,    200)),
    "end ivan's delegation": Row("POST", "/accounts/out-of-office/{delegation}/end/",
        (LOGIN,  404,    404,    DONE,   404,    404,    404,    404,    404,    404,    404),
        effect=lambda w: Delegation.objects.get(pk=w.ids["delegation"]).ends_at <= timezone.now()),
    # Django admin: staff only. Anonymous visitors go to sign in; a signed-in person the
    # admin does not let in gets a 403 page saying whom to ask (issue 27: never the loop
    # between the admin's sign-in and Tandem's).
    # (The admin's index sends anonymous visitors through /admin/login/, which sends them on.)
    "admin": Row("GET", "/admin/",
        (302,    403,    403,    403,    403,    403,    403,    403,    200,    403,    403)),
    "admin: audit trail": Row("GET", "/admin/audit/auditevent/",
        (LOGIN,  403,    403,    403,    403,    403,    403,    403,    200,    403,    403)),
    "admin: routing rules": Row("GET", "/admin/approvals/approvalrule/",
        (LOGIN,  403,    403,    403,    403,    403,    403,    403,    200,    403,    403)),
    "admin: sign-in attempts": Row("GET", "/admin/axes/accessattempt/",
        (LOGIN,  403,    403,    403,    403,    403,    403,    403,    200,    403,    403)),
    "admin: its sign-in page": Row("GET", "/admin/login/?next=/admin/",
        (LOGIN,  403,    403,    403,    403,    403,    403,    403,    302,    403,    403)),
    # API documentation
    "API schema": Row("GET", "/api/schema/",
        (401,    200,    200,    200,    200,    200,    200,    200,    200,    200,    200)),
    "API docs": Row("GET", "/api/docs/",
        (401,    200,    200,    200,    200,    200,    200,    200,    200,    200,    200)),
    # Requests: API
    "list requests": Row("GET", "/api/requests/",
        (401,    200,    200,    200,    200,    200,    200,    200,    200,    200,    200)),
    "create a draft": Row("POST", "/api/requests/",
        (401,    201,    201,    201,    201,    201,    201,    201,    201,    201,    201),
        data={"title": "Filed through the API"},
        effect=lambda w: PurchaseRequest.objects.filter(title="Filed through the API").exists()),
    "request in review (API)": Row("GET", "/api/requests/{pr}/",
        (401,    200,    404,    200,    200,    200,    200,    200,    200,    200,    404)),
    "draft (API)": Row("GET", "/api/requests/{draft}/",
        (401,    200,    404,    404,    404,    200,    200,    404,    200,    404,    404)),
    "change the draft": Row("PATCH", "/api/requests/{draft}/",
        (401,    200,    404,    404,    404,    403,    403,    404,    200,    404,    404),
        data={"title": "Renamed"},
        effect=lambda w: PurchaseRequest.objects.get(pk=w.ids["draft"]).title == "Renamed"),
    "change a request in review": Row("PATCH", "/api/requests/{pr}/",
        (401,    409,    404,    403,    403,    403,    403,    403,    409,    403,    404),
        data={"title": "Renamed"},
        effect=lambda w: PurchaseRequest.objects.get(pk=w.ids["pr"]).title == "Renamed"),
    "submit the draft (API)": Row("POST", "/api/requests/{draft}/submit/",
        (401,    200,    404,    404,    404,    403,    403,    404,    200,    404,    404),
        effect=lambda w: state("draft")(w) == "in_review"),
    "resubmit a request in review": Row("POST", "/api/requests/{pr}/resubmit/",
        (401,    409,    404,    403,    403,    403,    403,    403,    409,    403,    404)),
    "withdraw (API)": Row("POST", "/api/requests/{pr}/withdraw/",
        (401,    200,    404,    403,    403,    403,    403,    403,    200,    403,    404),
        effect=lambda w: state("pr")(w) == "withdrawn"),
    "mark ordered (API)": Row("POST", "/api/requests/{approved}/mark-ordered/",
        (401,    403,    404,    403,    200,    403,    200,    403,    200,    403,    404),
        data={"po_number": "PO-1"},
        effect=lambda w: state("approved")(w) == "ordered"),
    "close (API)": Row("POST", "/api/requests/{ordered}/close/",
        (401,    200,    404,    403,    200,    403,    200,    403,    200,    403,    404),
        effect=lambda w: state("ordered")(w) == "closed"),
    "events": Row("GET", "/api/requests/{pr}/events/",
        (401,    200,    404,    200,    200,    200,    200,    200,    200,    200,    404)),
    "comments": Row("GET", "/api/requests/{pr}/comments/",
        (401,    200,    404,    200,    200,    200,    200,    200,    200,    200,    404)),
    "comment (API)": Row("POST", "/api/requests/{pr}/comments/",
        (401,    201,    404,    201,    201,    201,    201,    201,    201,    201,    404),
        data={"body": "A question"},
        effect=lambda w: PurchaseRequest.objects.get(pk=w.ids["pr"]).comments.exists()),
    "steps of a request": Row("GET", "/api/requests/{pr}/steps/",
        (401,    200,    404,    200,    200,    200,    200,    200,    200,    200,    404)),
    # Steps: API
    "a step": Row("GET", "/api/steps/{it_step}/",
        (401,    200,    404,    200,    200,    200,    200,    200,    200,    200,    404)),
    "approve the IT step (API)": Row("POST", "/api/steps/{it_step}/approve/",
        (401,    403,    404,    200,    403,    403,    403,    403,    403,    200,    404),
        data={"comment": "Fine"},
        effect=lambda w: step_state("it_step")(w) == "approved"),
    "reject the IT step (API)": Row("POST", "/api/steps/{it_step}/reject/",
        (401,    403,    404,    200,    403,    403,    403,    403,    403,    200,    404),
        data={"comment": "No budget"},
        effect=lambda w: step_state("it_step")(w) == "rejected"),
    "ask changes on the procurement step (API)": Row(
        "POST", "/api/steps/{proc_step}/request-changes/",
        (401,    403,    404,    403,    200,    403,    403,    403,    403,    403,    404),
        data={"comment": "Attach the quote"},
        effect=lambda w: step_state("proc_step")(w) == "changes_requested"),
    # Rules: API (admins only)
    "list rules": Row("GET", "/api/rules/",
        (401,    403,    403,    403,    403,    403,    403,    403,    200,    403,    403)),
    "create a rule": Row("POST", "/api/rules/",
        (401,    403,    403,    403,    403,    403,    403,    403,    201,    403,    403),
        data=_rule_payload,
        effect=lambda w: ApprovalRule.objects.filter(name="Matrix rule").exists()),
    "a rule": Row("GET", "/api/rules/{rule}/",
        (401,    403,    403,    403,    403,    403,    403,    403,    200,    403,    403)),
    "change a rule": Row("PATCH", "/api/rules/{rule}/",
        (401,    403,    403,    403,    403,    403,    403,    403,    200,    403,    403),
        data={"sla_hours": 12},
        effect=lambda w: ApprovalRule.objects.get(pk=w.ids["rule"]).sla_hours == 12),
    "delete a rule": Row("DELETE", "/api/rules/{rule}/",
        (401,    403,    403,    403,    403,    403,    403,    403,    204,    403,    403),
        effect=lambda w: not ApprovalRule.objects.filter(pk=w.ids["rule"]).exists()),
    "rule preview (API)": Row("POST", "/api/rules/preview/",
        (401,    403,    403,    200,    200,    200,    200,    200,    200,    403,    403),
        data={"total": "1000.00"}),
    # Vendors: API
    "list vendors": Row("GET", "/api/vendors/",
        (401,    403,    403,    200,    200,    200,    200,    200,    200,    403,    403)),
    "create a vendor": Row("POST", "/api/vendors/",
        (401,    403,    403,    201,    201,    201,    201,    403,    201,    403,    403),
        data={"name": "Matrix Vendor"},
        effect=lambda w: Vendor.objects.filter(name="Matrix Vendor").exists()),
    "a vendor": Row("GET", "/api/vendors/{vendor}/",
        (401,    403,    403,    200,    200,    200,    200,    200,    200,    403,    403)),
    "change a vendor": Row("PATCH", "/api/vendors/{vendor}/",
        (401,    403,    403,    200,    200,    200,    200,    403,    200,    403,    403),
        data={"legal_name": "Renamed Ltd"},
        effect=lambda w: Vendor.objects.get(pk=w.ids["vendor"]).legal_name == "Renamed Ltd"),
    "start a vendor review (API)": Row("POST", "/api/vendors/{prospect}/start-review/",
        (401,    403,    403,    200,    200,    200,    200,    403,    200,    403,    403),
        effect=lambda w: vendor_status("prospect")(w) == "under_review"),
    "vendor review steps": Row("GET", "/api/vendors/{vendor}/steps/",
        (401,    403,    403,    200,    200,    200,    200,    200,    200,    403,    403)),
    "questionnaire": Row("GET", "/api/vendors/{vendor}/questionnaire/",
        (401,    403,    403,    200,    200,    200,    200,    200,    200,    403,    403)),
    "answer the questionnaire (API)": Row("POST", "/api/vendors/{vendor}/questionnaire/",
        (401,    403,    403,    200,    403,    200,    403,    403,    200,    403,    403),
        data=lambda w: {"answers": [{"question": w.ids["question"], "option": w.ids["option"]}]},
        effect=lambda w: Vendor.objects.get(pk=w.ids["vendor"]).answers.exists()),
    "certificates": Row("GET", "/api/vendors/{vendor}/certificates/",
        (401,    403,    403,    200,    200,    200,    200,    200,    200,    403,    403)),
    "certificate document (API)": Row(
        "GET", "/api/vendors/{vendor}/certificates/{certificate}/document/",
        (401,    403,    403,    200,    200,    200,    200,    200,    200,    403,    403)),
    "contracts": Row("GET", "/api/vendors/{vendor}/contracts/",
        (401,    403,    403,    200,    200,    200,    200,    200,    200,    403,    403)),
    "ratings": Row("GET", "/api/vendors/{vendor}/ratings/",
        (401,    403,    403,    200,    200,    200,    200,    200,    200,    403,    403)),
    "rate the vendor (API)": Row("POST", "/api/vendors/{closed_vendor}/ratings/",
        (401,    201,    404,    201,    403,    201,    403,    403,    403,    403,    404),
        data=lambda w: {"request": w.ids["closed"], "delivery": 4, "quality": 5, "support": 3},
        effect=lambda w: VendorRating.objects.filter(request_id=w.ids["closed"]).exists()),
    # Insights (SPEC §6 dashboard, §7 /api/metrics/): reviewers, leaders and admins.
    "insights dashboard": Row("GET", "/insights/",
        (LOGIN,  403,    403,    200,    200,    200,    200,    200,    200,    403,    403)),
    "metrics (API)": Row("GET", "/api/metrics/",
        (401,    403,    403,    200,    200,    200,    200,    200,    200,    403,    403)),
    # Budgets and renewals (SPEC §8a)
    "budget panel (form)": Row("GET", "/budgets/intake-panel/?title=X",
        (LOGIN,  200,    200,    200,    200,    200,    200,    200,    200,    200,    200)),
    "renewals page": Row("GET", "/budgets/renewals/",
        (LOGIN,  403,    403,    403,    200,    200,    200,    403,    200,    403,    403)),
    "budget import page": Row("GET", "/budgets/import/",
        (LOGIN,  403,    403,    403,    403,    403,    403,    200,    200,    403,    403)),
    # A budget's figures (budgets.policies.budget_sight): the world's budget is of Rita's
    # department; whoever sees every submitted request sees every budget (the delegate holds
    # Ivan's rights); a department one does not see is a 404, an empty list.
    "list budgets (API)": Row("GET", "/api/budgets/",
        (401,    200,    200,    200,    200,    200,    200,    200,    200,    200,    200)),
    "one budget (API)": Row("GET", "/api/budgets/{budget}/",
        (401,    200,    404,    200,    200,    200,    200,    200,    200,    200,    404)),
    "no such budget (API)": Row("GET", "/api/budgets/0/",
        (401,    404,    404,    404,    404,    404,    404,    404,    404,    404,    404)),
    "list renewals (API)": Row("GET", "/api/renewals/",
        (401,    403,    403,    403,    200,    200,    200,    403,    200,    403,    403)),
    "one renewal (API)": Row("GET", "/api/renewals/{renewal}/",
        (401,    403,    403,    403,    200,    200,    200,    403,    200,    403,    403)),
    # CSV exports (SPEC §6): each user's visible requests; the audit trail for leaders and admins.
    "export requests": Row("GET", "/insights/export/requests.csv",
        (LOGIN,  200,    200,    200,    200,    200,    200,    200,    200,    200,    200)),
    "export the audit trail": Row("GET", "/insights/export/audit.csv",
        (LOGIN,  403,    403,    403,    403,    200,    200,    403,    200,    403,    403)),
    "export requests (API)": Row("GET", "/api/export/requests.csv",
        (401,    200,    200,    200,    200,    200,    200,    200,    200,    200,    200)),
    "export the audit trail (API)": Row("GET", "/api/export/audit.csv",
        (401,    403,    403,    403,    403,    200,    200,    403,    200,    403,    403)),
    # Bad input (issue 11): whoever sends it gets the same 400 once allowed, never a 5xx.
    "token, JSON nested 1,000 deep": Row("POST", "/api/auth/token/",
        (400,    400,    400,    400,    400,    400,    400,    400,    400,    400,    400),
        data="[" * 1000 + "]" * 1000),
    "create a draft, JSON nested 1,000 deep": Row("POST", "/api/requests/",
        (401,    400,    400,    400,    400,    400,    400,    400,    400,    400,    400),
        data='{"title": ' + "[" * 1000 + "]" * 1000 + "}"),
    "create a draft of 32,767 months": Row("POST", "/api/requests/",
        (401,    400,    400,    400,    400,    400,    400,    400,    400,    400,    400),
        data={"title": "Too long a term", "billing": "monthly", "term_months": 32767,
              "line_items": [{"description": "d", "quantity": "9999999999.99",
                              "unit_price": "999999999999.99"}]},
        effect=lambda w: PurchaseRequest.objects.filter(title="Too long a term").exists()),
    "create a draft with a line break in the title": Row("POST", "/api/requests/",
        (401,    400,    400,    400,    400,    400,    400,    400,    400,    400,    400),
        data={"title": "Broken\r\nBcc: x@example.com"},
        effect=lambda w: PurchaseRequest.objects.filter(title__startswith="Broken").exists()),
    "create a vendor with a line break in the name": Row("POST", "/api/vendors/",
        (401,    403,    403,    400,    400,    400,    400,    403,    400,    403,    403),
        data={"name": "Broken\nVendor"},
        effect=lambda w: Vendor.objects.filter(name__startswith="Broken").exists()),
    "metrics (API) to 9999-12-31": Row("GET", "/api/metrics/?to=9999-12-31",
        (401,    403,    403,    400,    400,    400,    400,    400,    400,    403,    403)),
    "insights dashboard to 9999-12-31": Row("GET", "/insights/?to=9999-12-31",
        (LOGIN,  403,    403,    200,    200,    200,    200,    200,    200,    403,    403)),
    "export requests to 9999-12-31": Row("GET", "/insights/export/requests.csv?to=9999-12-31",
        (LOGIN,  400,    400,    400,    400,    400,    400,    400,    400,    400,    400)),
    "export the audit trail to 9999-12-31": Row("GET",
        "/insights/export/audit.csv?to=9999-12-31",
        (LOGIN,  403,    403,    403,    403,    400,    400,    403,    400,    403,    403)),
    "export requests (API) to 9999-12-31": Row("GET", "/api/export/requests.csv?to=9999-12-31",
        (401,    400,    400,    400,    400,    400,    400,    400,    400,    400,    400)),
    # Slack's interactivity endpoint answers only Slack's signed requests; without a Slack app
    # configured it is not there for anyone.
    "Slack interactivity, unsigned": Row("POST", "/api/slack/interactivity/",
        (404,    404,    404,    404,    404,    404,    404,    404,    404,    404,    404),
        data={"payload": "[]"},
        effect=lambda w: step_state("it_step")(w) == "approved"),
    "export the audit trail (API) from 0001-01-01": Row("GET",
        "/api/export/audit.csv?from=0001-01-01",
        (401,    403,    403,    403,    403,    400,    400,    403,    400,    403,    403)),
}
# fmt: on

CASES = [pytest.param(name, role, id=f"{name} | {role}") for name in MATRIX for role in ROLES]


@pytest.mark.django_db  # runs with the matrix, before any transactional test empties the database
def test_the_matrix_has_a_cell_for_every_role():
    for name, row in MATRIX.items():
        assert len(row.cells) == len(ROLES), name


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """Everything the matrix needs, built once for the module in a transaction that is rolled
    back at its end."""
    media_root = tmp_path_factory.mktemp("matrix-media")
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=media_root),
        rolled_back_atomic(),
    ):
        yield _build_world(media_root)
        transaction.set_rollback(True)


@pytest.fixture(scope="module")
def clients():
    """One browser and one API client for the module: each new client loads the middleware
    again, and WhiteNoise's scan of the static files then costs more than a cell's request."""
    return Client(), APIClient()


@pytest.fixture(autouse=True)
def _media_root(settings, world):
    """The files the module's world wrote, for every cell (tests/conftest.py would give each
    test an empty media folder of its own)."""
    settings.MEDIA_ROOT = world.media_root


def _build_world(media_root) -> World:
    ivan = UserFactory(username="ivan", roles=[roles.IT_REVIEWERS])
    users = {
        "requester": UserFactory(username="rita"),
        "other_requester": UserFactory(username="oscar"),
        "it_reviewer": ivan,
        "procurement": UserFactory(username="paul", roles=[roles.PROCUREMENT]),
        "cio": UserFactory(username="cora", roles=[roles.CIO]),
        "cpo": UserFactory(username="cleo", roles=[roles.CPO]),
        "finance": UserFactory(username="fiona", roles=[roles.FINANCE]),
        "admin": UserFactory(username="ada", is_staff=True, is_superuser=True),
        "delegate": delegate_of(ivan, "dora", in_window=True),
        "ex_delegate": delegate_of(ivan, "dan", in_window=False),
    }
    rita = users["requester"]
    today = timezone.localdate()

    pr = workflow.submit_request(PurchaseRequestFactory(requester=rita), by=rita)
    draft = PurchaseRequestFactory(requester=rita)
    approved = PurchaseRequestFactory(requester=rita, state="approved")
    ordered = PurchaseRequestFactory(
        requester=rita, state="ordered", po_number="PO-7", ordered_on=today
    )
    closed = PurchaseRequestFactory(
        requester=rita,
        state="closed",
        po_number="PO-8",
        ordered_on=today - timedelta(days=9),
        received_on=today - timedelta(days=2),
    )
    attachment = Attachment.objects.create(
        request=pr,
        file=ContentFile(PNG, name="quote.png"),
        original_name="quote.png",
        content_type="image/png",
        size=len(PNG),
        uploaded_by=rita,
    )
    certificate = Certificate.objects.create(
        vendor=pr.vendor,
        kind="soc2_type2",
        issuer="Auditors Ltd",
        issued_on=today - timedelta(days=100),
        expires_on=today + timedelta(days=200),
        document=ContentFile(PDF, name="soc2.pdf"),
        document_name="soc2.pdf",
        document_type="application/pdf",
        uploaded_by=users["procurement"],
    )
    notification = Notification.objects.create(
        recipient=rita,
        channel=Channel.IN_APP,
        subject="Your request moved",
        body="See the request.",
        url=pr.get_absolute_url(),
        status="sent",
        sent_at=timezone.now(),
    )
    questions = list(SecurityQuestion.objects.filter(active=True).order_by("position"))
    first_options = {
        q.pk: AnswerOption.objects.filter(question=q).order_by("pk").first().pk for q in questions
    }
    ids = {
        "pr": pr.pk,
        "draft": draft.pk,
        "approved": approved.pk,
        "ordered": ordered.pk,
        "closed": closed.pk,
        "closed_vendor": closed.vendor_id,
        "it_step": pr.steps.get(side="it").pk,
        "ivan_link": issue_token(ivan, pr.steps.get(side="it"), TokenKind.LINK),
        "proc_step": pr.steps.get(side="procurement").pk,
        "vendor": pr.vendor_id,
        "prospect": VendorFactory(status="prospective").pk,
        "attachment": attachment.pk,
        "certificate": certificate.pk,
        "notification": notification.pk,
        "delegation": Delegation.objects.get(delegator=ivan, delegate=users["delegate"]).pk,
        "rule": ApprovalRule.objects.order_by("pk").first().pk,
        "question": questions[0].pk,
        "option": first_options[questions[0].pk],
        # The questionnaire page wants every question answered.
        "every_answer": {f"question_{q}": str(o) for q, o in first_options.items()},
    }
    ids["budget"] = Budget.objects.create(
        department=rita.department,
        fiscal_year=today.year,
        amount=Decimal("100000"),
        owner=users["finance"],
    ).pk
    contract = Contract.objects.create(
        vendor=pr.vendor,
        title="Matrix contract",
        starts_on=today - timedelta(days=300),
        ends_on=today + timedelta(days=60),
        annual_value=Decimal("1200"),
        owner=users["procurement"],
    )
    renewal = budget_services.create_renewal(contract)
    ids["renewal"], ids["renewal_draft"] = renewal.pk, renewal.request_id
    tokens = {
        role: create_token(user, name="Matrix", scopes=["read", "write", "decide"])[1]
        for role, user in users.items()
    }
    sessions = {}
    for role, user in users.items():  # signed in once; every cell reuses the session
        browser = Client()
        browser.force_login(user)
        sessions[role] = browser.cookies[settings.SESSION_COOKIE_NAME].value
    return World(users=users, tokens=tokens, sessions=sessions, ids=ids, media_root=media_root)


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "role"), CASES)
def test_permission_matrix(name, role, world, clients):
    row = MATRIX[name]
    expected = row.cells[ROLES.index(role)]
    url = row.url(world)
    try:
        resolve(url.split("?")[0])
    except Resolver404:
        pytest.fail(f"{url} does not resolve: the matrix row names a page or endpoint that is gone")

    response = _send(row, role, world, *clients, url)
    status = response.status_code
    where = f"{row.method} {url} as {role}"

    # Issue 11: no answer of Tandem's may be kept by a browser or a proxy.
    assert "no-store" in response.get("Cache-Control", ""), f"{where}: cacheable"

    if expected == LOGIN:
        assert status == 302, f"{where}: {status}"
        assert response["Location"].startswith("/accounts/login/"), where
    elif expected in (DONE, DENIED):
        assert status == 302, f"{where}: {status} {_text(response)}"
        assert row.effect(world) is (expected == DONE), f"{where}: expected {expected}"
    else:
        assert status == expected, f"{where}: {status} {_text(response)}"
        if row.effect is not None:
            assert row.effect(world) is (200 <= status < 300), f"{where}: write effect"


# Which of the world's requests each role finds in the API's list (SPEC §9: requesters their
# own, reviewers what their groups touch, procurement what it orders, CIO, CPO, admins all).
ALL_REQUESTS = {"pr", "draft", "approved", "ordered", "closed"}
# Reviewers, finance and their delegates see every submitted request; drafts stay private.
SUBMITTED = ALL_REQUESTS - {"draft"}
LISTED = {
    "requester": ALL_REQUESTS,
    "other_requester": set(),
    "it_reviewer": SUBMITTED,
    # Paul owns the contract whose renewal draft the world has: his own draft, which the
    # leaders and admins see as they see every draft.
    "procurement": SUBMITTED | {"renewal_draft"},
    "cio": ALL_REQUESTS | {"renewal_draft"},
    "cpo": ALL_REQUESTS | {"renewal_draft"},
    "finance": SUBMITTED,
    "admin": ALL_REQUESTS | {"renewal_draft"},
    "delegate": SUBMITTED,
    "ex_delegate": set(),
}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES[1:])
def test_request_lists_show_each_role_only_what_it_may_see(role, world, clients):
    client, api = clients
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {world.tokens[role]}")
    listed = {r["id"] for r in api.get("/api/requests/", {"page_size": 100}).json()["results"]}
    assert listed == {world.ids[name] for name in LISTED[role]}
    client.cookies.clear()
    client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[role]
    page = client.get("/requests/").content.decode()  # "My requests": one's own, always
    numbers = PurchaseRequest.objects.filter(pk__in=[world.ids[n] for n in ALL_REQUESTS])
    shown = {pr.pk for pr in numbers if pr.number in page}
    assert shown == (listed if role == "requester" else set())


def _send(row, role, world, client, api, url):
    data = row.payload(world)
    client.cookies.clear()
    api.cookies.clear()
    api.credentials()
    if url.startswith("/api/"):
        if role != "anonymous":
            api.credentials(HTTP_AUTHORIZATION=f"Bearer {world.tokens[role]}")
        method = getattr(api, row.method.lower())
        if isinstance(data, str):
            return method(url, data, content_type="application/json")
        return method(url, data, format="json") if row.method != "GET" else method(url)
    if role != "anonymous":
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[role]
    if row.method == "GET":
        return client.get(url)
    return client.post(url, data)  # multipart: files and fields alike


def _text(response) -> str:
    if response.get("Content-Type", "").startswith(("application/json", "text/")):
        return response.content.decode(errors="replace")[:300]
    return ""
