"""The VAPID key pair (RFC 8292) the push worker signs Web Push requests with.

`VAPID_PRIVATE_KEY` (base64url of the raw 32-byte P-256 key, as `web-push generate-vapid-keys`
prints it, or a PEM) and `VAPID_PUBLIC_KEY` configure it; without them a pair is generated once into
`DATA_DIR/vapid_private_key.secret`, so every node sharing that directory, and every restart, signs
with the same key (browsers' subscriptions are bound to the public key they subscribed with).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid

from server.config import Settings
from server.security.secret_files import load_or_create_secret

KEY_FILE = "vapid_private_key.secret"


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass(frozen=True)
class VapidKeys:
    """`private_key`: base64url raw scalar; `public_key`: base64url uncompressed point, the
    `applicationServerKey` a web client subscribes with."""

    private_key: str
    public_key: str

    def signer(self) -> Vapid:
        return Vapid.from_string(private_key=self.private_key)


def _from_private(private: ec.EllipticCurvePrivateKey) -> VapidKeys:
    scalar = private.private_numbers().private_value.to_bytes(32, "big")
    point = private.public_key().public_bytes(serialization.Encoding.X962,
                                              serialization.PublicFormat.UncompressedPoint)
    return VapidKeys(b64url(scalar), b64url(point))


def parse_private_key(text: str) -> VapidKeys:
    """A configured private key: raw base64url, base64 DER, or PEM."""
    text = text.strip()
    if "BEGIN" in text:
        vapid = Vapid.from_pem(text.encode())
    else:
        vapid = Vapid.from_string(private_key=text)
    private = vapid.private_key
    if not isinstance(private, ec.EllipticCurvePrivateKey) or private.curve.name != "secp256r1":
        raise ValueError("VAPID_PRIVATE_KEY must be a P-256 key")
    return _from_private(private)


def _load_or_create_key_file(data_dir: Path) -> str:
    """The generated key, created once (see load_or_create_secret)."""
    return load_or_create_secret(
        data_dir, KEY_FILE.removesuffix(".secret"),
        lambda: _from_private(ec.generate_private_key(ec.SECP256R1())).private_key,
    )


def load_vapid_keys(settings: Settings) -> VapidKeys:
    """The configured key pair, or the one generated into DATA_DIR when none is configured."""
    if settings.vapid_private_key:
        keys = parse_private_key(settings.vapid_private_key)
        if settings.vapid_public_key and settings.vapid_public_key.strip().rstrip("=") != keys.public_key:
            raise ValueError("VAPID_PUBLIC_KEY does not belong to VAPID_PRIVATE_KEY")
        return keys
    if settings.vapid_public_key:
        raise ValueError("VAPID_PUBLIC_KEY is set without VAPID_PRIVATE_KEY")
    return parse_private_key(_load_or_create_key_file(settings.data_dir))
