"""Writes on people: out-of-office delegations (SPEC §1), the roles and department that the
company's identity provider gives them at each sign-in or pushes by SCIM, and their leaving."""

import logging

from allauth.usersessions.models import UserSession
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.errors import TransitionNotAllowed

from . import hooks
from .models import ApiToken, ClaimMapping, Delegation, Department, ProviderGroup, User

log = logging.getLogger(__name__)


def create_delegation(*, delegator, delegate, starts_at, ends_at) -> Delegation:
    """From `starts_at` until `ends_at` the delegate acts with the delegator's reviewing
    rights, under the rules of `Delegation.clean`."""
    delegation = Delegation(
        delegator=delegator, delegate=delegate, starts_at=starts_at, ends_at=ends_at
    )
    delegation.full_clean()
    with transaction.atomic():
        delegation.save()
    return delegation


def end_delegation(delegation: Delegation, *, now=None) -> Delegation | None:
    """Ends a delegation now. One that has not started yet never applied and is removed
    (returns None); one already over cannot be ended again (TransitionNotAllowed, 409)."""
    now = now or timezone.now()
    with transaction.atomic():
        delegation = Delegation.objects.select_for_update().get(pk=delegation.pk)
        if delegation.ends_at <= now:
            raise TransitionNotAllowed("This delegation has already ended.")
        if delegation.starts_at >= now:
            delegation.delete()
            return None
        delegation.ends_at = now
        delegation.save(update_fields=["ends_at"])
        hooks.rights_lost()
    return delegation


# Signing in through the company's identity provider


def claim_values(claims: dict, name: str) -> set[str]:
    """A claim as a set of strings: providers send groups as a list, a department as a string."""
    value = claims.get(name)
    if value is None:
        return set()
    if isinstance(value, list | tuple):
        return {str(item) for item in value if isinstance(item, str | int)}
    if isinstance(value, str | int):
        return {str(value)}
    return set()


def apply_claims(user: User, claims: dict) -> dict:
    """Gives `user` the roles and department their claims map to (admin: Claim mappings), and
    their name and address. Groups some mapping names are added or removed to match the claims;
    groups no mapping names are left alone. Returns the group names added and removed."""
    mappings = list(ClaimMapping.objects.select_related("group", "department"))
    matches = [m for m in mappings if m.value in claim_values(claims, m.claim)]
    governed = {m.group_id: m.group for m in mappings if m.group_id}
    granted = {m.group_id for m in matches if m.group_id}
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        current = set(user.groups.values_list("pk", flat=True))
        to_add = granted - current
        to_remove = (set(governed) - granted) & current
        if to_add:
            user.groups.add(*to_add)
        if to_remove:
            user.groups.remove(*to_remove)
        department = next((m.department for m in matches if m.department_id), None)
        if department is None:
            department = _department_named(
                claim_values(claims, settings.TANDEM_OIDC_DEPARTMENT_CLAIM)
            )
        fields = {
            "first_name": str(claims.get("given_name") or "")[:150],
            "last_name": str(claims.get("family_name") or "")[:150],
            "email": str(claims.get("email") or "")[:254],
        }
        changed = [name for name, value in fields.items() if value and getattr(user, name) != value]
        for name in changed:
            setattr(user, name, fields[name])
        if department is not None and user.department_id != department.pk:
            user.department = department
            changed.append("department")
        if changed:
            user.save(update_fields=changed)
    change = {
        "added": sorted(governed[pk].name for pk in to_add),
        "removed": sorted(governed[pk].name for pk in to_remove),
    }
    if change["added"] or change["removed"]:
        log.info("roles of user %s from the identity provider: %s", user.pk, change)
    return change


def _department_named(values: set[str]) -> Department | None:
    for value in sorted(values):
        department = Department.objects.filter(
            Q(name__iexact=value) | Q(cost_centre__iexact=value)
        ).first()
        if department is not None:
            return department
    return None


# Leaving


def end_sessions(user: User) -> int:
    """Signs `user` out everywhere: every session Tandem recorded for them is deleted."""
    sessions = list(UserSession.objects.filter(user=user))
    for user_session in sessions:
        user_session.end()
    return len(sessions)


def deactivate_user(user: User, *, now=None) -> User:
    """Somebody leaves: they can no longer sign in; their sessions, API tokens and delegations,
    given and held, end now. Running it again changes nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(is_active=False)
        user.is_active = False
        ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
        current = Delegation.objects.filter(Q(delegator=user) | Q(delegate=user), ends_at__gt=now)
        for delegation in current:
            end_delegation(delegation, now=now)
        end_sessions(user)
        hooks.rights_lost()
    return user


# The identity provider's pushes (SCIM, accounts/scim.py): the same rules as sign-in and leaving

PERSON_FIELDS = {
    "user_name": "username",
    "external_id": "external_id",
    "given_name": "first_name",
    "family_name": "last_name",
    "email": "email",
}


def provision_user(attributes: dict) -> User:
    """The provider creates a person. They get no Tandem password (they sign in through the
    provider), and their roles follow their provider groups."""
    with transaction.atomic():
        user = User(provisioned_at=timezone.now())
        for key, field in PERSON_FIELDS.items():
            setattr(user, field, attributes.get(key) or "")
        user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save()
    if attributes.get("active") is False:
        deactivate_user(user)
    return user


def update_provisioned_user(user: User, attributes: dict) -> User:
    """The provider changes a person. `active` false is leaving (deactivate_user: sessions,
    tokens and delegations end); true lets them sign in again (their old tokens stay revoked)."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        for key, field in PERSON_FIELDS.items():
            if key in attributes:
                setattr(user, field, attributes[key] or "")
        reactivate = attributes.get("active") is True and not user.is_active
        if reactivate:
            user.is_active = True
        user.full_clean(exclude=["password"])
        user.save()
    if attributes.get("active") is False and user.is_active:
        deactivate_user(user)
    return user


def save_provider_group(group: ProviderGroup | None, attributes: dict) -> ProviderGroup:
    """The provider creates or changes a group; everyone who joined or left it gets the roles
    the claim mappings give their groups now."""
    with transaction.atomic():
        group = group or ProviderGroup()
        before = set(group.members.values_list("pk", flat=True)) if group.pk else set()
        renamed = group.pk and attributes.get("display_name", group.display_name) != (
            group.display_name
        )
        for key in ("display_name", "external_id"):
            if key in attributes:
                setattr(group, key, attributes[key] or "")
        group.full_clean()
        group.save()
        after = before
        if "member_ids" in attributes:
            after = set(attributes["member_ids"])
            group.members.set(after)
        affected = (before | after) if renamed else (before ^ after)
        sync_provider_roles(User.objects.filter(pk__in=affected))
    return group


def delete_provider_group(group: ProviderGroup) -> None:
    with transaction.atomic():
        members = list(group.members.values_list("pk", flat=True))
        group.delete()
        sync_provider_roles(User.objects.filter(pk__in=members))


def sync_provider_roles(users) -> None:
    """Each person's roles follow their provider groups by the claim mappings, exactly as a
    sign-in carrying those groups in the claim `groups` would give them (apply_claims)."""
    for user in users.prefetch_related("provider_groups"):
        names = set()
        for group in user.provider_groups.all():
            names.update(value for value in (group.display_name, group.external_id) if value)
        apply_claims(user, {"groups": sorted(names)})
