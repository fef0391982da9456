import base64
import binascii

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from audit import sealer
from audit.chain import verify_chain
from audit.signing import configured_public_key


class Command(BaseCommand):
    help = (
        "Checks the whole audit trail's hash chain and its signed checkpoints; names the first "
        "broken link and exits with status 1 when there is one."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--public-key",
            help="Accept only checkpoints signed by this Ed25519 public key (base64). Defaults "
            "to the key of TANDEM_AUDIT_SIGNING_KEY when it is set.",
        )

    def handle(self, *args, **options):
        public_key = configured_public_key()
        if options["public_key"]:
            try:
                public_key = base64.b64decode(options["public_key"], validate=True)
            except (ValueError, binascii.Error) as error:
                raise CommandError("--public-key is not base64") from error
        report = verify_chain(public_key=public_key)
        if report.broken:
            raise CommandError(
                f"Audit chain BROKEN at {report.broken}. "
                f"{report.checked} event(s) before it are intact."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit chain intact: {report.checked} event(s), head {report.head_hash}, "
                f"{report.checkpoints_checked} signed checkpoint(s) match."
            )
        )
        waiting, oldest_at = sealer.unsealed()
        if waiting:
            oldest = timezone.now() - oldest_at
            line = f"{waiting} newer event(s) wait for their seal, the oldest for {oldest}."
            if not sealer.late(oldest_at, timezone.now()):
                self.stdout.write(line)
            else:
                raise CommandError(
                    f"{line} That is longer than {sealer.SEAL_BOUND}: is a worker taking the "
                    "'audit' queue?"
                )
