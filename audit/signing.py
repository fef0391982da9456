"""Signed checkpoints of the audit chain (issue 18). The Ed25519 private key comes from the
environment (TANDEM_AUDIT_SIGNING_KEY: the 32-byte raw key in base64, or a PKCS#8 PEM); the
public key travels with every checkpoint and its fingerprint in the admins' e-mail, so an
auditor can pin it."""

import base64
import binascii
import hashlib
from datetime import date, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from tandem_verify.chain import checkpoint_message, packet_message, timestamp

from .models import AuditCheckpoint


class SigningKeyMissing(ImproperlyConfigured):
    """No (valid) TANDEM_AUDIT_SIGNING_KEY: checkpoints cannot be signed."""


def load_private_key(value: str | None = None) -> Ed25519PrivateKey:
    value = (value if value is not None else settings.TANDEM_AUDIT_SIGNING_KEY).strip()
    if not value:
        raise SigningKeyMissing(
            "TANDEM_AUDIT_SIGNING_KEY is not set: run `manage.py audit_keygen` and put the key "
            "in the environment."
        )
    try:
        if value.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(value.encode(), password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise ValueError("not an Ed25519 key")
            return key
        return Ed25519PrivateKey.from_private_bytes(base64.b64decode(value, validate=True))
    except (ValueError, TypeError, binascii.Error) as error:
        raise SigningKeyMissing(
            f"TANDEM_AUDIT_SIGNING_KEY is not an Ed25519 key: {error}"
        ) from error


def raw_public_key(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    if isinstance(key, Ed25519PrivateKey):
        key = key.public_key()
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_key: bytes) -> str:
    return hashlib.sha256(public_key).hexdigest()[:16]


def generate_key() -> tuple[str, str]:
    """A new key pair: (private key for the environment, public key), both base64."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    return base64.b64encode(private).decode(), base64.b64encode(raw_public_key(key)).decode()


def sign_checkpoint(
    *, day: date, sequence: int, head_hash: str, signed_at: datetime
) -> AuditCheckpoint:
    """An unsaved checkpoint, signed."""
    key = load_private_key()
    public = raw_public_key(key)
    checkpoint = AuditCheckpoint(
        day=day, sequence=sequence, head_hash=head_hash, signed_at=signed_at
    )
    message = checkpoint_message(as_dict(checkpoint))
    checkpoint.signature = base64.b64encode(key.sign(message)).decode()
    checkpoint.public_key = base64.b64encode(public).decode()
    checkpoint.key_id = key_id(public)
    return checkpoint


def as_dict(checkpoint: AuditCheckpoint) -> dict:
    """The checkpoint as the evidence packet and the verifier see it."""
    return {
        "day": checkpoint.day.isoformat(),
        "sequence": checkpoint.sequence,
        "head_hash": checkpoint.head_hash,
        "signed_at": timestamp(checkpoint.signed_at),
        "signature": checkpoint.signature,
        "public_key": checkpoint.public_key,
        "key_id": checkpoint.key_id,
    }


def configured_public_key() -> bytes | None:
    """The public key of the configured signing key, or None when none is configured."""
    try:
        return raw_public_key(load_private_key())
    except SigningKeyMissing:
        return None


def verify_checkpoint_signature(
    checkpoint: AuditCheckpoint, *, public_key: bytes | None = None
) -> str | None:
    """None when the signature is valid (and made with `public_key`, when given), else why not."""
    try:
        stored_key = base64.b64decode(checkpoint.public_key, validate=True)
        signature = base64.b64decode(checkpoint.signature, validate=True)
        if public_key is not None and stored_key != public_key:
            return f"the checkpoint of {checkpoint.day} was signed with another key"
        Ed25519PublicKey.from_public_bytes(stored_key).verify(
            signature, checkpoint_message(as_dict(checkpoint))
        )
    except (ValueError, binascii.Error, InvalidSignature):
        return f"the signature of the checkpoint of {checkpoint.day} is not valid"
    return None


def sign_packet(packet: dict) -> dict | None:
    """The attestation of an evidence packet (plain JSON values): Tandem's Ed25519 signature over
    the whole packet (`tandem_verify.chain.packet_message`), so that the events it lists, their
    order and the chain head it ends at are Tandem's word at export, events newer than the
    latest checkpoint included. None when no signing key is configured (the verifier then
    refuses the packet and says why)."""
    try:
        key = load_private_key()
    except SigningKeyMissing:
        return None
    public = raw_public_key(key)
    return {
        "signature": base64.b64encode(key.sign(packet_message(packet))).decode(),
        "public_key": base64.b64encode(public).decode(),
        "key_id": key_id(public),
    }
