"""`manage.py import_vendors FILE [--dry-run] [--by USERNAME]`: the page's import from a shell,
with the same per-row report (vendors.imports)."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from vendors import imports


class Command(BaseCommand):
    help = "Imports vendors and contracts from a CSV or XLSX file: every row or none."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--dry-run", action="store_true", help="Check and report each row; write nothing."
        )
        parser.add_argument(
            "--by",
            help="Username recorded as who imported (and who proposed the new vendors); "
            "they must be allowed to manage vendors.",
        )

    def handle(self, *args, file: Path, dry_run: bool, by=None, **options):
        actor = None
        if by:
            actor = get_user_model().objects.filter(username=by).first()
            if actor is None:
                raise CommandError(f"No user “{by}”.")
        try:
            content = file.read_bytes()
            report = imports.import_file(file.name, content, by=actor, dry_run=dry_run)
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from None
        except imports.ImportFileError as error:
            raise CommandError(str(error)) from None
        for row in report.rows:
            self.stdout.write(f"Line {row.line}: {row.vendor or '—'}: {row.outcome}: {row.details}")
        if report.refused:
            raise CommandError(
                f"Nothing imported: {len(report.refused)} of {len(report.rows)} rows refused."
            )
        self.stdout.write(self.style.SUCCESS(report.summary()))
