import base64

from django.core.management.base import BaseCommand

from audit.signing import generate_key, key_id


class Command(BaseCommand):
    help = "Makes a new Ed25519 key pair for signing the audit trail's daily checkpoints."

    def handle(self, *args, **options):
        private, public = generate_key()
        self.stdout.write(f"TANDEM_AUDIT_SIGNING_KEY={private}")
        self.stdout.write(f"# public key (give it to auditors): {public}")
        self.stdout.write(f"# key id: {key_id(base64.b64decode(public))}")
