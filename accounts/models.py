from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from core import formats
from core.validation import validate_time_zone


class Department(models.Model):
    """A cost centre; requests are charged to one."""

    name = models.CharField(max_length=120, unique=True)
    cost_centre = models.CharField(max_length=20, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.cost_centre})"


class User(AbstractUser):
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    manager = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    time_zone = models.CharField(
        max_length=64,
        validators=[validate_time_zone],
        default="UTC",
        blank=True,
        help_text="Times and due times show in this zone; empty: the zone of the working-hours "
        "calendar of the person's reviewer group.",
    )
    is_service_account = models.BooleanField(
        default=False,
        help_text="A system (such as the ERP), not a person: it signs in only with API tokens.",
    )
    external_id = models.CharField(
        max_length=255,
        blank=True,
        help_text="The identity provider's id for this person (SCIM externalId).",
    )
    provisioned_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the identity provider created this person by SCIM.",
    )
    may_set_local_password = models.BooleanField(
        default=False,
        help_text="Lets a person who signs in through the identity provider also keep a Tandem "
        "password. Leave off: the provider's sign-in, with its checks, is then the only way in.",
    )

    def __str__(self):
        return self.get_full_name() or self.username


class Delegation(models.Model):
    """Out of office: from `starts_at` until `ends_at` the delegate acts with the delegator's
    reviewing rights; every decision records both names (SPEC §1)."""

    delegator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="delegations_given"
    )
    delegate = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="delegations_held"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()

    class Meta:
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["delegate", "starts_at", "ends_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="delegation_ends_after_start"
            ),
            models.CheckConstraint(
                condition=~Q(delegate=F("delegator")), name="delegation_not_to_self"
            ),
        ]

    def __str__(self):
        window = f"{formats.day(self.starts_at)} – {formats.day(self.ends_at)}"
        return f"{self.delegator} → {self.delegate} ({window})"

    EARLIEST_YEAR, LATEST_YEAR = 2000, 2100

    def clean(self):
        """The rules of a delegation, for the page, the API and the admin alike: to somebody
        else who can still sign in, within sensible years, ending after it starts and, when
        new, not already over."""
        errors = {}
        if self.delegator_id and self.delegator_id == self.delegate_id:
            errors["delegate"] = ["Delegate to somebody else."]
        elif self._state.adding and self.delegate_id and not self.delegate.is_active:
            errors["delegate"] = ["This person can no longer sign in."]
        for name in ("starts_at", "ends_at"):
            value = getattr(self, name)
            if value and not self.EARLIEST_YEAR <= value.year <= self.LATEST_YEAR:
                errors[name] = [
                    f"Choose a date between {self.EARLIEST_YEAR} and {self.LATEST_YEAR}."
                ]
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors.setdefault("ends_at", []).append("The delegation must end after it starts.")
        if self._state.adding and self.ends_at and self.ends_at <= timezone.now():
            errors.setdefault("ends_at", []).append(
                "This window has already ended: choose an end in the future."
            )
        if errors:
            raise ValidationError(errors)


class Scope(models.TextChoices):
    READ = "read", "Read: see what the owner may see"
    WRITE = "write", "Write: create and change requests, record orders and receipts"
    DECIDE = "decide", "Decide: approve, reject or send back approval steps"
    SCIM = "scim", "SCIM: the identity provider creates, changes and deactivates people"

    @classmethod
    def personal(cls) -> list[tuple[str, str]]:
        """The scopes a person may give their own tokens: SCIM is for a service account only."""
        return [(value, label) for value, label in cls.choices if value != cls.SCIM]


class ApiToken(models.Model):
    """A named API token of a person or a service account (issue 18): scoped, expiring,
    revocable, and stored only as its SHA-256 (the token itself is shown once, when made).
    Sent as `Authorization: Bearer tdm_…`."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, help_text="What it is for, e.g. “ERP order sync”.")
    prefix = models.CharField(max_length=12, unique=True, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="api_token_name_unique_per_user")
        ]

    def __str__(self):
        return f"{self.name} ({self.prefix}…) of {self.user}"

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class ClaimMapping(models.Model):
    """How the company's identity provider names Tandem's roles and departments: a person whose
    sign-in carries `value` in the claim `claim` (e.g. `it-security` in `groups`) is in `group`
    or in `department`. Re-applied at every sign-in through the provider: a group that some
    mapping names is added when a mapping matches and removed when none does; groups no mapping
    names are left as they are (docs/administer/sso.md)."""

    claim = models.CharField(
        max_length=100,
        default="groups",
        help_text="The claim in the provider's ID token or user info, usually “groups”.",
    )
    value = models.CharField(
        max_length=200, help_text="The value at the provider, e.g. “it-security”."
    )
    group = models.ForeignKey(
        "auth.Group",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="claim_mappings",
        help_text="The Tandem role it gives.",
    )
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="claim_mappings",
        help_text="Or the department it puts the person in.",
    )

    class Meta:
        ordering = ["claim", "value", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(group__isnull=False, department__isnull=True)
                | Q(group__isnull=True, department__isnull=False),
                name="claim_mapping_gives_a_role_or_a_department",
            ),
            models.UniqueConstraint(
                fields=["claim", "value", "group"],
                condition=Q(group__isnull=False),
                name="claim_mapping_role_unique",
            ),
            models.UniqueConstraint(
                fields=["claim", "value", "department"],
                condition=Q(department__isnull=False),
                name="claim_mapping_department_unique",
            ),
        ]

    def __str__(self):
        target = self.group if self.group_id else self.department
        return f"{self.claim} “{self.value}” → {target}"

    def clean(self):
        if bool(self.group_id) == bool(self.department_id):
            raise ValidationError("Choose either a role or a department.")


class ProviderGroup(models.Model):
    """A group at the company's identity provider, as it pushes it by SCIM. Its members get the
    Tandem roles that the claim mappings give the group's name (or id) in the claim `groups`,
    the same rule as at sign-in (accounts.services.apply_claims)."""

    display_name = models.CharField(max_length=255, unique=True)
    external_id = models.CharField(max_length=255, blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="provider_groups"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return self.display_name
