from datetime import timedelta

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts import tokens
from accounts.models import Scope, User


class Command(BaseCommand):
    help = (
        "Creates (or reuses) a service account, such as the ERP, in the given role groups, and "
        "prints a new API token for it (shown once)."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--group", action="append", default=[], help="e.g. procurement")
        parser.add_argument("--token-name", default="ERP integration")
        parser.add_argument(
            "--scope",
            action="append",
            choices=Scope.values,
            help="read, write, decide; or scim alone, for the identity provider",
        )
        parser.add_argument("--days", type=int, default=90, help="token lifetime, at most 366")

    def handle(self, *args, username, group, token_name, scope, days, **options):
        with transaction.atomic():
            user, created = User.objects.get_or_create(
                username=username, defaults={"is_service_account": True}
            )
            if not user.is_service_account:
                raise CommandError(f"{username} is a person, not a service account.")
            user.set_unusable_password()
            user.save()
            for name in group:
                try:
                    user.groups.add(Group.objects.get(name=name))
                except Group.DoesNotExist as error:
                    raise CommandError(f"No group {name!r}.") from error
            try:
                row, token = tokens.create_token(
                    user,
                    name=token_name,
                    scopes=scope or [Scope.READ, Scope.WRITE],
                    expires_at=timezone.now() + timedelta(days=days),
                )
            except ValidationError as error:
                raise CommandError("; ".join(error.messages)) from error
        self.stdout.write(f"{'Created' if created else 'Reused'} service account {username}.")
        self.stdout.write(
            f"Token {row.name!r} ({', '.join(row.scopes)}), until {row.expires_at:%Y-%m-%d}:"
        )
        self.stdout.write(token)
