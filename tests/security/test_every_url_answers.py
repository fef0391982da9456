"""Every address answers (issue 27, item 12): each URL pattern the project routes, read from the
URL resolver through every include (never a list kept by hand), is opened with GET and with an
empty POST by each role and by nobody, and none may answer 5xx. A 404, 403, 405 or a redirect to
the sign-in page is an answer; a server error is not.

Path parameters are filled from one small organisation built once for the module: a request in
review with its IT and procurement steps, a consultation, vendors (one rated), a certificate, a
contract, a renewal, a budget, an attachment, a decision link, tokens, a delegation, and an
object of each model the admin shows. Each route is tried with real ids, then once more for
each of its parameters with that one replaced by something that names nothing (an id past any
database's integers, a word no view knows): a view that trusts an id is caught there. Admin
routes take the id of an object of their own model.

Pages are asked for as a browser asks; the API as its clients ask (JSON), and its browsable pages
as a browser. Where roles could only meet the same code (the admin's gate for everyone who is
not staff, the browsable API's forms), a named rule below says which roles stand for the others.

Every write runs in a savepoint that is rolled back, so an empty POST that does something (e.g.
"mark all read") never changes what the next request sees. One test walks everything and lists
every (method, url, role, status, error) that failed, at once."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP
from allauth.socialaccount.models import SocialAccount, SocialToken
from allauth.usersessions.models import UserSession
from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.db import transaction
from django.template import TemplateSyntaxError, engines
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils import timezone
from django.utils.regex_helper import normalize
from django_celery_beat.models import ClockedSchedule, SolarSchedule

from accounts import roles
from accounts.models import ClaimMapping, Delegation, Department, ProviderGroup
from accounts.tokens import create_token
from approvals import rule_drafts, workflow
from approvals import services as approval_services
from approvals.models import ApprovalRule, RuleSetVersion
from approvals.views import DECISION_SLUGS
from audit.services import create_checkpoint
from audit.signing import generate_key
from budgets import services as budget_services
from budgets.models import Budget
from calendars.models import WorkCalendar
from intake.models import Attachment
from notifications.models import Channel, Notification
from operations.models import Alert, AlertKind
from reach.models import InboundMessage, SlackMessage, TokenKind
from reach.services import issue_token
from tests.factories import PurchaseRequestFactory, UserFactory, VendorFactory
from tests.security.conftest import PASSWORD
from tests.support import rolled_back_atomic
from vendors.models import Certificate, Contract
from vendors.services import rate_vendor
from webhooks.models import EVENT_TYPES, WebhookDelivery, WebhookEndpoint, WebhookMessage

ROLES = (
    "anonymous",
    "requester",  # rita, who filed the request
    "it_reviewer",  # ivan
    "procurement",  # paul
    "cio",  # cora
    "cpo",  # cleo
    "finance",  # fiona
    "admin",  # ada, staff and superuser
)

# What a browser asks for: pages are pages, and the API answers with its browsable pages.
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

# A value that names nothing, for each kind of parameter.
# A value that names nothing, for each kind of parameter. The missing id is past any database's
# integers (a lookup must not overflow); where the route takes any text as an id (DRF's
# `[^/.]+`, the admin's `<path:object_id>`), a word is tried too.
MISSING_ID = "99999999999999999999"
MISSING_SLUG = "no-such-thing"

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\xdac\xfc\xff\x9f\xa1\x1e\x00\x07\x82\x02\x7f=\xc8H"
    b"\xef\x00\x00\x00\x00IEND\xaeB`\x82"
)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


# -- The routes, from the resolver ---------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """One URL pattern as routed: its full regex (every include's prefix joined) and the
    callback that serves it."""

    regex: str
    callback: object
    name: str | None
    converters: dict

    @property
    def shown(self) -> str:
        return self.regex.lstrip("^")


def _routes(patterns, prefix: str = "", converters: dict | None = None):
    for pattern in patterns:
        regex = pattern.pattern.regex.pattern
        joined = prefix + (regex[1:] if regex.startswith("^") else regex)
        # A path converter says how its value is written in a URL (its to_url).
        known = {**(converters or {}), **getattr(pattern.pattern, "converters", {})}
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, joined, known)
        else:
            assert isinstance(pattern, URLPattern)
            yield Route(
                regex="^" + joined, callback=pattern.callback, name=pattern.name, converters=known
            )


def every_route() -> list[Route]:
    return list(_routes(get_resolver().url_patterns))


# Routes the walk does not call (a regex on the route as shown, e.g. "^static/"), each with the
# reason. None so far: even the admin's catch-alls (`<path:object_id>/`, `(?P<url>.*)$`) and
# allauth's key routes answer when given a value that names nothing. Every rule must still match
# a route (test_the_walk_opens_every_route_or_names_why_not), so none outlives its reason.
SKIPPED: dict[str, str] = {}


def _skip_reason(route: Route) -> str | None:
    for pattern, reason in SKIPPED.items():
        if re.search(pattern, route.shown):
            return reason
    return None


# -- Filling the parameters ----------------------------------------------------------------------


@dataclass
class Organisation:
    ids: dict  # what a parameter names -> a real value
    sessions: dict  # role -> session key
    media_root: Path


# Which object a parameter names, by the path segment before it and the parameter's name.
# The segment is what the URL says the id is of: "requests/<pk>/", "steps/<pk>/".
BY_SEGMENT = {
    ("requests", "pk"): "request",
    ("requests", "request_pk"): "request",
    ("attachments", "attachment_pk"): "attachment",
    ("steps", "pk"): "step",
    ("consultations", "pk"): "consultation",
    ("vendors", "pk"): "vendor",
    ("certificates", "certificate_pk"): "certificate",
    ("out-of-office", "pk"): "delegation",
    ("delegations", "pk"): "delegation",
    ("api-tokens", "pk"): "api_token",
    ("tokens", "pk"): "api_token",
    ("notifications", "pk"): "failed_notification",
    ("rules", "pk"): "rule",
    ("categories", "pk"): "category",
    ("budgets", "pk"): "budget",
    ("renewals", "pk"): "renewal",
    ("decide", "token"): "decision_link",
    ("oidc", "provider_id"): "provider_id",
    ("confirm-email", "key"): "email_confirmation_key",
    ("user", "id"): "admin_user_id",
    ("r", "content_type_id"): "content_type",
    ("versions", "number"): "rule_version",
    ("rule-versions", "number"): "rule_version",
    ("drafts", "pk"): "rule_draft",
    ("rule-drafts", "pk"): "rule_draft",
    ("rules", "rule_key"): "rule",
    ("Users", "pk"): "admin_user_id",
    ("Groups", "pk"): "provider_group",
}

# Parameters whose values are words rather than ids: each plausible value is tried (one URL
# each); the missing variant is a word no view knows.
WORDS = {
    "action": ("submit", "resubmit", "withdraw", "mark-ordered", "close"),
    "decision": tuple(DECISION_SLUGS),
    "app_label": ("intake",),
    "url": ("no-such-page/",),
}


def _segment_before(format_string: str, param: str) -> str:
    before = format_string.split(f"%({param})s", 1)[0].rstrip("/")
    return before.rsplit("/", 1)[-1]


def _value(route: Route, format_string: str, param: str, organisation: Organisation):
    """The real value of `param` in `route`: an object of the admin's model for an admin
    object id, else what BY_SEGMENT names."""
    model_admin = getattr(route.callback, "model_admin", None)
    if param == "object_id" and model_admin is not None:
        first = model_admin.model._default_manager.order_by("pk").first()
        return str(first.pk) if first else MISSING_ID
    if param == "object_id":  # admin/r/<content_type_id>/<object_id>/: the request
        return str(organisation.ids["request"])
    if param == "uidb36":  # the password-reset key's user, as allauth writes it
        return organisation.ids["password_reset_uidb36"]
    if param == "key" and "reset" in format_string:
        return organisation.ids["password_reset_key"]
    key = BY_SEGMENT.get((_segment_before(format_string, param), param))
    if key is None:
        raise LookupError(
            f"{route.shown}: no value for <{param}>: add its object to BY_SEGMENT or WORDS"
        )
    return str(organisation.ids[key])


def _missing(route: Route, param: str) -> tuple[str, ...]:
    """What names nothing for `param`: a word for a word or a key, else an id past any
    database's integers and, where the route takes any text there, a word too."""
    if param in WORDS or param in ("provider_id", "token", "key", "uidb36"):
        return (MISSING_SLUG,)
    if getattr(route.callback, "model_admin", None) is not None:
        return (MISSING_ID,)  # the admin reads every object id in one place (get_object)
    converter = route.converters.get(param)
    group = re.search(rf"\(\?P<{param}>(.+?)\)", route.regex)[1]  # what a regex route takes
    accepted = converter.regex if converter else group
    return tuple(value for value in (MISSING_ID, MISSING_SLUG) if re.fullmatch(accepted, value))


def urls_of(route: Route, organisation: Organisation) -> list[tuple[str, bool]]:
    """The URLs the walk opens for `route`, each with whether all it names is real: with real
    values (each plausible word), then with each parameter in turn naming nothing."""
    format_string, params = normalize(route.regex)[0]
    if not params:
        return [("/" + format_string, True)]
    real = {}
    for param in params:
        real[param] = (
            WORDS[param] if param in WORDS else (_value(route, format_string, param, organisation),)
        )

    def url(values):
        written = {
            p: route.converters[p].to_url(v) if p in route.converters else v
            for p, v in values.items()
        }
        return "/" + format_string % written

    urls = []
    for param in params:
        for word in real[param]:
            urls.append((url({p: real[p][0] for p in params} | {param: word}), True))
    for param in params:
        for missing in _missing(route, param):
            urls.append((url({p: real[p][0] for p in params} | {param: missing}), False))
    return list(dict.fromkeys(urls))


# -- The organisation ----------------------------------------------------------------------------


def _build_organisation(media_root: Path) -> Organisation:
    ivan = UserFactory(username="ivan", roles=[roles.IT_REVIEWERS])
    users = {
        "requester": UserFactory(username="rita"),
        "it_reviewer": ivan,
        "procurement": UserFactory(username="paul", roles=[roles.PROCUREMENT]),
        "cio": UserFactory(username="cora", roles=[roles.CIO]),
        "cpo": UserFactory(username="cleo", roles=[roles.CPO]),
        "finance": UserFactory(username="fiona", roles=[roles.FINANCE]),
        "admin": UserFactory(username="ada", is_staff=True, is_superuser=True),
    }
    rita, paul = users["requester"], users["procurement"]
    colleague = UserFactory(username="iris", roles=[roles.IT_REVIEWERS])
    today, now = timezone.localdate(), timezone.now()

    pr = workflow.submit_request(PurchaseRequestFactory(requester=rita), by=rita)
    it_step = pr.steps.get(side="it")
    consultation = approval_services.ask_colleague(
        it_step, by=ivan, colleague=colleague, question="Is this tool on our list?"
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
        uploaded_by=paul,
    )
    failed = Notification.objects.create(
        recipient=rita,
        channel=Channel.EMAIL,
        subject="Your request moved",
        body="See the request.",
        url=pr.get_absolute_url(),
        status="gave_up",
    )
    Alert.objects.create(
        kind=AlertKind.GAVE_UP,
        key=f"gave-up-{failed.pk}",
        summary="A notice could not be sent",
        notification=failed,
        raised_at=now,
    )
    delegation = Delegation.objects.create(
        delegator=ivan, delegate=colleague, starts_at=now, ends_at=now + timedelta(days=7)
    )
    budget = Budget.objects.create(
        department=rita.department,
        fiscal_year=today.year,
        amount=Decimal("100000"),
        owner=users["finance"],
    )
    contract = Contract.objects.create(
        vendor=pr.vendor,
        title="Design tool licence",
        starts_on=today - timedelta(days=300),
        ends_on=today + timedelta(days=60),
        annual_value=Decimal("1200"),
        owner=paul,
    )
    renewal = budget_services.create_renewal(contract)
    closed = PurchaseRequestFactory(
        requester=rita,
        state="closed",
        po_number="PO-8",
        ordered_on=today - timedelta(days=9),
        received_on=today - timedelta(days=2),
    )
    rate_vendor(closed, by=rita, delivery=4, quality=4, support=4)
    VendorFactory(status="prospective")
    api_token, _secret = create_token(rita, name="Sync", scopes=["read"])
    # Objects that only the admin shows, so that its change pages open a real one (DRF's
    # legacy tokens and allauth's database-kept provider apps are left out: Tandem issues
    # neither).
    endpoint = WebhookEndpoint.objects.create(url="https://hooks.example/tandem", event_types=[])
    message = WebhookMessage.objects.create(msg_id="msg_1", event_type=EVENT_TYPES[0][0], body="{}")
    WebhookDelivery.objects.create(endpoint=endpoint, message=message)
    with override_settings(TANDEM_AUDIT_SIGNING_KEY=generate_key()[0]):
        create_checkpoint()
    TOTP.activate(users["cio"], "JBSWY3DPEHPK3PXP")
    EmailAddress.objects.create(user=rita, email=rita.email, primary=True, verified=True)
    social = SocialAccount.objects.create(user=paul, provider="company", uid="paul@idp.example")
    SocialToken.objects.create(account=social, token="access-token")
    AccessAttempt.objects.create(
        user_agent="Firefox",
        ip_address="192.0.2.1",
        username="rita",
        http_accept="text/html",
        path_info="/accounts/login/",
        get_data="",
        post_data="username=rita",
        failures_since_start=1,
    )
    AccessFailureLog.objects.create(
        user_agent="Firefox",
        ip_address="192.0.2.1",
        username="rita",
        http_accept="text/html",
        path_info="/accounts/login/",
    )
    UserSession.objects.create(
        user=rita, ip="192.0.2.1", session_key="walk-session", user_agent="Firefox"
    )
    ClockedSchedule.objects.create(clocked_time=now + timedelta(days=1))
    SolarSchedule.objects.create(
        event="sunrise", latitude=Decimal("52.5"), longitude=Decimal("13.4")
    )
    InboundMessage.objects.create(message_key="<reply-1@mail.example>", sender="ivan@x.example")
    SlackMessage.objects.create(step=it_step, user=ivan, channel="D1", ts="1.0")
    WorkCalendar.objects.get_or_create(name="Head office")
    ClaimMapping.objects.create(value="it-security", department=Department.objects.first())
    draft = rule_drafts.start_draft(by=users["admin"], reason="Walk every route")
    provider_group = ProviderGroup.objects.create(display_name="IT security")

    ids = {
        "request": pr.pk,
        "attachment": attachment.pk,
        "step": it_step.pk,
        "consultation": consultation.pk,
        "vendor": pr.vendor_id,
        "certificate": certificate.pk,
        "delegation": delegation.pk,
        "api_token": api_token.pk,
        "failed_notification": failed.pk,
        "rule": ApprovalRule.objects.order_by("pk").first().pk,
        "category": pr.category_id,
        "budget": budget.pk,
        "renewal": renewal.pk,
        "decision_link": issue_token(ivan, it_step, TokenKind.LINK),
        "provider_id": settings.TANDEM_OIDC_PROVIDER_ID,
        "email_confirmation_key": "MQ:1tAbcd:abcdefghijklmnopqrstuvwxyz0",
        "password_reset_uidb36": "1",
        "password_reset_key": "set-password",
        "admin_user_id": rita.pk,
        "content_type": ContentType.objects.get_for_model(pr).pk,
        "rule_version": RuleSetVersion.objects.order_by("number").first().number,
        "rule_draft": draft.pk,
        "provider_group": provider_group.pk,
    }
    sessions = {}
    for role, user in users.items():  # signed in once; every request reuses the session
        browser = Client()
        browser.force_login(user)
        sessions[role] = browser.cookies[settings.SESSION_COOKIE_NAME].value
    return Organisation(ids=ids, sessions=sessions, media_root=media_root)


@pytest.fixture(scope="module")
def organisation(django_db_setup, django_db_blocker, tmp_path_factory):
    """The organisation, built once for the module in a transaction rolled back at its end."""
    media_root = tmp_path_factory.mktemp("every-url-media")
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=media_root),
        rolled_back_atomic(),
    ):
        yield _build_organisation(media_root)
        transaction.set_rollback(True)


@pytest.fixture
def organisation_files(settings, organisation):
    """The files the organisation wrote (tests/conftest.py gives each test an empty folder)."""
    settings.MEDIA_ROOT = organisation.media_root


# -- The walk ------------------------------------------------------------------------------------


def _send(client: Client, request: Request, session: str | None):
    """One request as `session`'s holder (None: nobody), in a savepoint rolled back after it:
    what an empty POST did is undone, and a sign-out's cleared cookie is not kept."""
    client.cookies.clear()
    if session is not None:
        client.cookies[settings.SESSION_COOKIE_NAME] = session
    with rolled_back_atomic():
        if request.method == "GET":
            response = client.get(request.url, HTTP_ACCEPT=request.accept)
        else:
            response = client.post(request.url, HTTP_ACCEPT=request.accept)
        transaction.set_rollback(True)
    return response


def _error(response) -> str:
    if getattr(response, "exc_info", None):
        _, error, _ = response.exc_info
        return f"{type(error).__name__}: {str(error).splitlines()[0][:160] if str(error) else ''}"
    return ""


# Admin views that do the same on a POST as on a GET: an object's history, its short address
# (a redirect to its change page), and the delete page, which deletes only on a POST that says
# something (Django's delete_view: `if request.POST`), so an empty one shows the page again.
ADMIN_VIEWS_THAT_IGNORE_THE_METHOD = {"history_view", "delete_view", "view"}


def accepts_post(route: Route) -> bool:
    """Whether the route's view takes a POST: a class-based view (Django's or DRF's) says so by
    its handlers, a viewset by its actions; a function view may take anything, so it is tried."""
    if getattr(route.callback, "model_admin", None) is not None:
        return route.callback.__name__ not in ADMIN_VIEWS_THAT_IGNORE_THE_METHOD
    actions = getattr(route.callback, "actions", None)
    if actions is not None:  # a DRF viewset's route: {"get": "list", "post": "create"}
        return "post" in actions
    view_class = getattr(route.callback, "view_class", None) or getattr(route.callback, "cls", None)
    if view_class is not None:
        return hasattr(view_class, "post") and "post" in view_class.http_method_names
    return True


# The admin lets in staff only: AdminSite.admin_view turns every other person away before any
# code of the admin's own runs, one gate whatever their role. Its addresses are opened by nobody,
# by one signed-in person who is not staff, and by the staff admin; the other roles, none of them
# staff, would only meet the same gate again (a third of the walk's time for nothing new).
ADMIN_ROLES = ("anonymous", "requester", "admin")
STAFF = ("admin",)
# The API answers every role in JSON, what its clients ask for. A browser is given the browsable
# API's pages instead: the same data and permission checks, drawn with forms built from the
# serializers for what the person may do; they are opened by the admin, who may do the most and
# so is shown every form (each such page costs ten JSON answers). Its forms post as JSON does.
BROWSABLE_API_ROLES = ("admin",)
JSON = "application/json"


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    accept: str
    roles: tuple[str, ...]


def plan(organisation: Organisation) -> list[Request]:
    """Every request of the walk, with the roles that send it."""
    admin, api = reverse("admin:index"), reverse("api-root")
    requests = []
    for route in every_route():
        if _skip_reason(route) is not None:
            continue
        methods = ("GET", "POST") if accepts_post(route) else ("GET",)
        for url, real in urls_of(route, organisation):
            for method in methods:
                if url.startswith(admin):
                    # Past the gate only staff: whether an id names something matters to them.
                    roles = ADMIN_ROLES if real else STAFF
                    requests.append(Request(method, url, BROWSER_ACCEPT, roles))
                elif url.startswith(api):
                    requests.append(Request(method, url, JSON, ROLES))
                    if method == "GET":
                        requests.append(Request(method, url, BROWSER_ACCEPT, BROWSABLE_API_ROLES))
                else:
                    requests.append(Request(method, url, BROWSER_ACCEPT, ROLES))
    return list(dict.fromkeys(requests))


def walk(organisation: Organisation, roles=ROLES):
    """Every (method, url, role) of the walk with its response's status and error, if any."""
    client = Client(raise_request_exception=False)
    for request in plan(organisation):
        for role in roles:
            if role in request.roles:
                response = _send(client, request, organisation.sessions.get(role))
                yield (
                    request.method,
                    request.url,
                    role if request.accept != JSON else f"{role} (JSON)",
                    response.status_code,
                    _error(response),
                )


@pytest.mark.django_db
def test_every_url_answers_every_role_without_a_server_error(organisation, organisation_files):
    failures = [answer for answer in walk(organisation) if answer[3] >= 500]
    assert not failures, f"{len(failures)} server errors:\n" + "\n".join(
        " ".join(str(part) for part in failure) for failure in failures
    )


@pytest.mark.django_db
def test_the_walk_opens_every_route_or_names_why_not(organisation):
    """Each routed pattern is in the walk with URLs that resolve (real addresses, not guesses),
    or is skipped by a rule of SKIPPED; and each rule there still matches a route."""
    planned = {request.url for request in plan(organisation)}
    routes = every_route()
    for route in routes:
        if _skip_reason(route) is not None:
            continue
        urls = [url for url, _real in urls_of(route, organisation)]
        assert urls and set(urls) <= planned, route.shown
        for url in urls:
            resolve(url)  # raises Resolver404 for an address that the project does not route
    for pattern in SKIPPED:
        assert any(re.search(pattern, route.shown) for route in routes), f"stale rule {pattern}"


# Templates that the apps ship for a setup Tandem does not have, each with the reason.
TEMPLATES_NOT_FOR_TANDEM = {
    # django-filter's form for django-crispy-forms, chosen only when crispy_forms is installed.
    "django_filters/rest_framework/crispy_form.html",
}


def test_every_template_compiles_with_the_tag_libraries_it_loads():
    """The class of auth/sessions/'s 500: a template (ours or an installed app's) that loads a
    tag library no installed app provides fails only when its page is opened. Each template in
    every folder the template loaders read is compiled here, so none waits for its page."""
    engine = engines["django"].engine
    folders = {
        Path(folder)
        for loader in engine.template_loaders
        for inner in getattr(loader, "loaders", [loader])
        for folder in inner.get_dirs()
    }
    names = {
        str(file.relative_to(folder))
        for folder in folders
        for file in folder.rglob("*")
        if file.is_file() and file.suffix in {".html", ".txt", ".xml"}
    }
    assert "usersessions/usersession_list.html" in names  # allauth's, the page that was a 500
    broken = []
    for name in sorted(names - TEMPLATES_NOT_FOR_TANDEM):
        try:
            engine.get_template(name)
        except TemplateSyntaxError as error:
            broken.append(f"{name}: {str(error).splitlines()[0]}")
    assert not broken, "\n".join(broken)


@pytest.mark.django_db
def test_the_sessions_page_lists_ones_sessions(organisation):
    """auth/sessions/ (allauth's list of one's sessions) was a 500: its template loads
    `humanize`, which no installed app provided."""
    browser = Client(HTTP_USER_AGENT="Firefox on the walk")
    with rolled_back_atomic():
        signed_in = browser.post("/accounts/login/", {"username": "rita", "password": PASSWORD})
        assert signed_in.status_code == 302, signed_in.content.decode()[:300]
        page = browser.get("/auth/sessions/")
        transaction.set_rollback(True)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Sessions" in text and "Current" in text and "Firefox on the walk" in text


@pytest.mark.django_db
def test_the_api_has_one_address_per_resource(organisation):
    """No `.json` twin of an API route (each passed a `format` argument that the viewsets'
    own actions do not take: a 500); `?format=json` still chooses the renderer."""
    api = Client()
    api.cookies[settings.SESSION_COOKIE_NAME] = organisation.sessions["requester"]
    request = organisation.ids["request"]
    assert api.get(f"/api/requests/{request}/comments.json").status_code == 404
    assert api.get(f"/api/requests/{request}.json").status_code == 404
    answer = api.get(f"/api/requests/{request}/comments/?format=json")
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/json"
