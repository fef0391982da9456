"""SCIM 2.0 (RFC 7643/7644): the company's identity provider (Entra ID, Okta) creates, changes
and deactivates people and pushes its groups, whose members get Tandem roles by the claim
mappings (docs/administer/sso.md).

Why our own small endpoint set rather than django-scim2: django-scim2 0.23 does support Django
5.2, but it says itself that PostgreSQL is the only database it supports (its filters become raw
SQL, and Tandem's tests and development run on SQLite); its authentication is a middleware on
every request reading `request.user`, where Tandem's scoped tokens live in DRF's authentication;
and it wants its SCIM fields mixed into the user and group models, with django.contrib.auth's
Group standing for the provider's groups, which here are not Tandem's roles. What providers send
is small and documented (Users and Groups: list with `filter=… eq "…"` and startIndex/count, get,
create, replace, PATCH Operations, delete), so it is written here against Tandem's own services
(provision_user, deactivate_user, apply_claims), outside DRF and its schema.

Every answer is `application/scim+json`; every refusal is SCIM's error message, never a 500.
"""

import json
import re

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.urls import path, reverse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import authentication, exceptions

from . import services, tokens
from .models import ProviderGroup, Scope, User

CONTENT_TYPE = "application/scim+json"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
ENTERPRISE_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
DEFAULT_COUNT = 100
MAX_COUNT = 500


class ScimError(Exception):
    def __init__(self, status: int, detail: str, scim_type: str | None = None):
        super().__init__(detail)
        self.status, self.detail, self.scim_type = status, detail, scim_type


def invalid(detail: str) -> ScimError:
    return ScimError(400, detail, "invalidValue")


def answer(body, status: int = 200) -> HttpResponse:
    if body is None:
        return HttpResponse(status=status)
    return HttpResponse(json.dumps(body), status=status, content_type=CONTENT_TYPE)


def error_answer(error: ScimError) -> HttpResponse:
    body = {"schemas": [ERROR_SCHEMA], "status": str(error.status), "detail": error.detail}
    if error.scim_type:
        body["scimType"] = error.scim_type
    response = answer(body, error.status)
    if error.status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="Tandem SCIM"'
    return response


def authenticate(request) -> User:
    """Only a usable token with the scim scope: a person's session or another token is refused."""
    header = authentication.get_authorization_header(request).split()
    if len(header) != 2 or header[0].lower() != b"bearer":
        raise ScimError(401, "Send the SCIM token: Authorization: Bearer tdm_….")
    try:
        row = tokens.authenticate_token(header[1].decode())
    except (UnicodeError, exceptions.AuthenticationFailed) as error:
        raise ScimError(401, str(getattr(error, "detail", "Invalid token."))) from error
    if Scope.SCIM not in row.scopes:
        raise ScimError(403, "This token lacks the 'scim' scope SCIM needs.")
    return row.user


def scim_view(handlers: dict):
    """An endpoint: the SCIM token checked, the method's handler called with the parsed body,
    and every refusal answered in SCIM's error format."""

    @csrf_exempt
    @login_not_required
    def view(request, **kwargs):
        try:
            authenticate(request)
            handler = handlers.get(request.method)
            if handler is None:
                raise ScimError(405, f"{request.method} is not supported here.")
            if request.method in ("POST", "PUT", "PATCH"):
                kwargs["body"] = parse_body(request)
            return handler(request, **kwargs)
        except ScimError as error:
            return error_answer(error)
        except ValidationError as error:
            return error_answer(invalid(validation_detail(error)))
        except IntegrityError:
            return error_answer(ScimError(409, "This conflicts with what exists.", "uniqueness"))

    return view


def parse_body(request) -> dict:
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError) as error:
        raise ScimError(400, "The body is not valid JSON.", "invalidSyntax") from error
    if not isinstance(body, dict):
        raise ScimError(400, "The body must be a JSON object.", "invalidSyntax")
    return body


def validation_detail(error: ValidationError) -> str:
    if hasattr(error, "message_dict"):
        return " ".join(f"{field}: {' '.join(msgs)}" for field, msgs in error.message_dict.items())
    return " ".join(error.messages)


# Values as providers send them


def text(value, name: str, *, required: bool = False) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise invalid(f"{name} must be a {'non-empty ' if required else ''}string.")
    return value.strip()


def boolean(value, name: str) -> bool:
    """Entra ID sends booleans as the strings "True" and "False" in PATCH operations."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise invalid(f"{name} must be true or false.")


def primary_email(value) -> str:
    if value is None:
        return ""
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise invalid("emails must be a list of objects with a value.")
    chosen = next((item for item in value if item.get("primary") in (True, "true", "True")), None)
    chosen = chosen or next((item for item in value if item.get("type") == "work"), None)
    chosen = chosen or (value[0] if value else {})
    return text(chosen.get("value"), "emails.value")


# Users


def accepted(_value) -> dict:
    return {}


USER_ATTRIBUTES = {
    # SCIM path (lower case) → how its value is read into the person's attributes
    "username": lambda v: {"user_name": text(v, "userName", required=True)},
    "externalid": lambda v: {"external_id": text(v, "externalId")},
    "name.givenname": lambda v: {"given_name": text(v, "name.givenName")},
    "name.familyname": lambda v: {"family_name": text(v, "name.familyName")},
    # Tandem shows the given and family name; a display name is checked, not kept apart.
    "name.formatted": lambda v: accepted(text(v, "name.formatted")),
    "displayname": lambda v: accepted(text(v, "displayName")),
    "emails": lambda v: {"email": primary_email(v)},
    'emails[type eq "work"].value': lambda v: {"email": text(v, "emails.value")},
    "emails[primary eq true].value": lambda v: {"email": text(v, "emails.value")},
    "active": lambda v: {"active": boolean(v, "active")},
}
# Read and ignored: what providers commonly send that Tandem keeps nowhere.
IGNORED_USER_ATTRIBUTES = {
    "schemas",
    "id",
    "meta",
    "title",
    "locale",
    "preferredlanguage",
    "timezone",
    "nickname",
    "phonenumbers",
    "addresses",
    "roles",
    "usertype",
    "password",
    "groups",
}


def user_attributes(resource: dict) -> dict:
    """A whole User resource (POST, PUT, or a PATCH without a path) as the person's attributes."""
    attributes = {}
    for key, value in resource.items():
        path_ = key.lower()
        if path_ in IGNORED_USER_ATTRIBUTES or path_.startswith(ENTERPRISE_SCHEMA.lower()):
            continue
        if path_ == "name":
            if not isinstance(value, dict):
                raise invalid("name must be an object.")
            for sub, sub_value in value.items():
                attributes.update(read_user_path(f"name.{sub}", sub_value))
            continue
        attributes.update(read_user_path(key, value))
    return attributes


def read_user_path(path_: str, value) -> dict:
    reader = USER_ATTRIBUTES.get(path_.lower().removeprefix(USER_SCHEMA.lower() + ":"))
    if reader is None:
        if path_.lower().startswith(ENTERPRISE_SCHEMA.lower()):
            return {}
        raise ScimError(400, f"Unknown attribute {path_!r}.", "invalidPath")
    return reader(value)


def user_resource(request, user: User) -> dict:
    return {
        "schemas": [USER_SCHEMA],
        "id": str(user.pk),
        "externalId": user.external_id or None,
        "userName": user.username,
        "name": {"givenName": user.first_name, "familyName": user.last_name},
        "displayName": user.get_full_name() or user.username,
        "emails": [{"value": user.email, "type": "work", "primary": True}] if user.email else [],
        "active": user.is_active,
        "groups": [
            {"value": str(group.pk), "display": group.display_name}
            for group in user.provider_groups.all()
        ],
        "meta": meta(request, "User", user.pk, user.date_joined, user.date_joined),
    }


def meta(request, kind: str, pk, created, modified) -> dict:
    name = "scim-user" if kind == "User" else "scim-group"
    return {
        "resourceType": kind,
        "created": created.isoformat(),
        "lastModified": modified.isoformat(),
        "location": request.build_absolute_uri(reverse(name, args=[pk])),
    }


def people():
    """The people SCIM sees: never a service account (its own included)."""
    return User.objects.filter(is_service_account=False).prefetch_related("provider_groups")


def find(queryset, pk: str):
    if not str(pk).isdigit():
        raise ScimError(404, f"No resource with id {pk!r}.")
    found = queryset.filter(pk=int(pk)).first()
    if found is None:
        raise ScimError(404, f"No resource with id {pk!r}.")
    return found


FILTER = re.compile(r'^\s*([A-Za-z.:0-9]+)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$', re.IGNORECASE)


def filtered(request, queryset, fields: dict):
    """`filter=<attribute> eq "<value>"`: the one form providers send to find what they made."""
    expression = request.GET.get("filter")
    if not expression:
        return queryset
    match = FILTER.match(expression)
    if match is None:
        raise ScimError(400, 'Only filters of the form: attribute eq "value".', "invalidFilter")
    attribute, value = match.group(1).lower(), json.loads(f'"{match.group(2)}"')
    field = fields.get(attribute)
    if field is None:
        raise ScimError(400, f"Cannot filter on {match.group(1)!r}.", "invalidFilter")
    if field == "pk" and not value.isdigit():
        return queryset.none()
    return queryset.filter(**{field: value})


def whole_number(request, name: str, default: int, least: int) -> int:
    raw = request.GET.get(name)
    if raw in (None, ""):
        return default
    try:
        return max(int(raw), least)
    except ValueError as error:
        raise invalid(f"{name} must be a whole number.") from error


def listing(request, queryset, resource) -> HttpResponse:
    start = whole_number(request, "startIndex", 1, 1)
    count = min(whole_number(request, "count", DEFAULT_COUNT, 0), MAX_COUNT)
    total = queryset.count()
    page = list(queryset.order_by("pk")[start - 1 : start - 1 + count]) if count else []
    return answer(
        {
            "schemas": [LIST_SCHEMA],
            "totalResults": total,
            "startIndex": start,
            "itemsPerPage": len(page),
            "Resources": [resource(request, item) for item in page],
        }
    )


USER_FILTERS = {"username": "username__iexact", "externalid": "external_id", "id": "pk"}


def list_users(request):
    return listing(request, filtered(request, people(), USER_FILTERS), user_resource)


def create_user(request, body):
    attributes = user_attributes(body)
    if not attributes.get("user_name"):
        raise invalid("userName is required.")
    if User.objects.filter(username__iexact=attributes["user_name"]).exists():
        raise ScimError(409, "A person with this userName exists.", "uniqueness")
    user = services.provision_user(attributes)
    return answer(user_resource(request, people().get(pk=user.pk)), 201)


def get_user(request, pk):
    return answer(user_resource(request, find(people(), pk)))


def replace_user(request, pk, body):
    user = find(people(), pk)
    attributes = user_attributes(body)
    if not attributes.get("user_name"):
        raise invalid("userName is required.")
    return change_user(request, user, attributes)


def patch_user(request, pk, body):
    user = find(people(), pk)
    attributes = {}
    for op, path_, value in operations(body):
        if op == "remove":
            if path_ is None:
                raise ScimError(400, "A remove operation needs a path.", "noTarget")
            value = False if path_.lower() == "active" else None
        if path_ is None:
            if not isinstance(value, dict):
                raise invalid("An operation without a path needs an object as its value.")
            attributes.update(user_attributes(value))
        else:
            attributes.update(read_user_path(path_, value))
    return change_user(request, user, attributes)


def change_user(request, user, attributes):
    name = attributes.get("user_name")
    if name is not None and not name:
        raise invalid("userName cannot be removed.")
    if name and people().filter(username__iexact=name).exclude(pk=user.pk).exists():
        raise ScimError(409, "A person with this userName exists.", "uniqueness")
    user = services.update_provisioned_user(user, attributes)
    return answer(user_resource(request, people().get(pk=user.pk)))


def delete_user(request, pk):
    """The provider's delete is leaving, as deactivating is: the person's record stays, for the
    decisions and the history that name them."""
    user = find(people(), pk)
    with transaction.atomic():
        user.provider_groups.clear()
        services.sync_provider_roles(User.objects.filter(pk=user.pk))
        services.deactivate_user(user)
    return answer(None, 204)


def operations(body: dict):
    """PATCH Operations as (op, path or None, value), op in lower case (Entra sends "Replace")."""
    found = body.get("Operations", body.get("operations"))
    if not isinstance(found, list) or not found:
        raise invalid("A PATCH needs a non-empty list of Operations.")
    for operation in found:
        if not isinstance(operation, dict):
            raise invalid("Each operation must be an object.")
        op = operation.get("op")
        if not isinstance(op, str) or op.lower() not in ("add", "replace", "remove"):
            raise invalid("op must be add, replace or remove.")
        path_ = operation.get("path")
        if path_ is not None and (not isinstance(path_, str) or not path_.strip()):
            raise ScimError(400, "path must be a string.", "invalidPath")
        yield op.lower(), path_.strip() if path_ else None, operation.get("value")


# Groups


def group_resource(request, group: ProviderGroup) -> dict:
    resource = {
        "schemas": [GROUP_SCHEMA],
        "id": str(group.pk),
        "displayName": group.display_name,
        "externalId": group.external_id or None,
        "meta": meta(request, "Group", group.pk, group.created_at, group.updated_at),
    }
    excluded = {a.strip().lower() for a in request.GET.get("excludedAttributes", "").split(",")}
    if "members" not in excluded:
        resource["members"] = [
            {"value": str(member.pk), "display": member.username} for member in group.members.all()
        ]
    return resource


def groups():
    return ProviderGroup.objects.prefetch_related("members")


def member_ids(value) -> set[int]:
    if value is None:
        return set()
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise invalid("members must be a list of objects with a value.")
    wanted = set()
    for item in value:
        raw = item.get("value")
        if not isinstance(raw, str | int) or not str(raw).isdigit():
            raise invalid(f"Unknown member {raw!r}.")
        wanted.add(int(raw))
    known = set(people().filter(pk__in=wanted).values_list("pk", flat=True))
    if unknown := wanted - known:
        raise invalid(f"Unknown member {min(unknown)}.")
    return wanted


GROUP_ATTRIBUTES = {
    "displayname": lambda v: {"display_name": text(v, "displayName", required=True)},
    "externalid": lambda v: {"external_id": text(v, "externalId")},
}


def group_attributes(resource: dict) -> dict:
    attributes = {}
    for key, value in resource.items():
        path_ = key.lower()
        if path_ in ("schemas", "id", "meta"):
            continue
        if path_ == "members":
            attributes["member_ids"] = member_ids(value)
            continue
        reader = GROUP_ATTRIBUTES.get(path_)
        if reader is None:
            raise ScimError(400, f"Unknown attribute {key!r}.", "invalidPath")
        attributes.update(reader(value))
    return attributes


GROUP_FILTERS = {"displayname": "display_name", "externalid": "external_id", "id": "pk"}


def list_groups(request):
    return listing(request, filtered(request, groups(), GROUP_FILTERS), group_resource)


def create_group(request, body):
    attributes = group_attributes(body)
    if not attributes.get("display_name"):
        raise invalid("displayName is required.")
    if ProviderGroup.objects.filter(display_name=attributes["display_name"]).exists():
        raise ScimError(409, "A group with this displayName exists.", "uniqueness")
    group = services.save_provider_group(None, attributes)
    return answer(group_resource(request, groups().get(pk=group.pk)), 201)


def get_group(request, pk):
    return answer(group_resource(request, find(groups(), pk)))


def replace_group(request, pk, body):
    group = find(groups(), pk)
    attributes = {"member_ids": set(), **group_attributes(body)}
    return change_group(request, group, attributes)


MEMBER_PATH = re.compile(r'^members\[value eq "?(\d+)"?\]$', re.IGNORECASE)


def patch_group(request, pk, body):
    group = find(groups(), pk)
    members = set(group.members.values_list("pk", flat=True))
    attributes = {}
    for op, path_, value in operations(body):
        target = (path_ or "").lower()
        if match := MEMBER_PATH.match(path_ or ""):
            if op != "remove":
                raise ScimError(400, "Add members with the path members.", "invalidPath")
            members.discard(int(match.group(1)))
        elif target == "members":
            if op == "add":
                members |= member_ids(value)
            elif op == "replace":
                members = member_ids(value)
            else:
                members = members - member_ids(value) if value else set()
        elif path_ is None:
            if op == "remove" or not isinstance(value, dict):
                raise invalid("An operation without a path needs an object as its value.")
            changes = group_attributes(value)
            if "member_ids" in changes:
                added = changes.pop("member_ids")
                members = members | added if op == "add" else added
            attributes.update(changes)
        else:
            reader = GROUP_ATTRIBUTES.get(target)
            if reader is None:
                raise ScimError(400, f"Unknown attribute {path_!r}.", "invalidPath")
            attributes.update(reader(None if op == "remove" else value))
    attributes["member_ids"] = members
    return change_group(request, group, attributes)


def change_group(request, group, attributes):
    name = attributes.get("display_name")
    if name is not None and not name:
        raise invalid("displayName cannot be removed.")
    if name and ProviderGroup.objects.filter(display_name=name).exclude(pk=group.pk).exists():
        raise ScimError(409, "A group with this displayName exists.", "uniqueness")
    group = services.save_provider_group(group, attributes)
    return answer(group_resource(request, groups().get(pk=group.pk)))


def delete_group(request, pk):
    services.delete_provider_group(find(groups(), pk))
    return answer(None, 204)


def service_provider_config(request):
    return answer(
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "patch": {"supported": True},
            "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
            "filter": {"supported": True, "maxResults": MAX_COUNT},
            "changePassword": {"supported": False},
            "sort": {"supported": False},
            "etag": {"supported": False},
            "authenticationSchemes": [
                {
                    "type": "oauthbearertoken",
                    "name": "Bearer token",
                    "description": "A Tandem API token with the scim scope.",
                }
            ],
        }
    )


urlpatterns = [
    path("Users", scim_view({"GET": list_users, "POST": create_user}), name="scim-users"),
    path(
        "Users/<str:pk>",
        scim_view(
            {"GET": get_user, "PUT": replace_user, "PATCH": patch_user, "DELETE": delete_user}
        ),
        name="scim-user",
    ),
    path("Groups", scim_view({"GET": list_groups, "POST": create_group}), name="scim-groups"),
    path(
        "Groups/<str:pk>",
        scim_view(
            {"GET": get_group, "PUT": replace_group, "PATCH": patch_group, "DELETE": delete_group}
        ),
        name="scim-group",
    ),
    path(
        "ServiceProviderConfig",
        scim_view({"GET": service_provider_config}),
        name="scim-service-provider-config",
    ),
]
