"""The VAPID key pair: configured, or generated once into DATA_DIR and kept."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02

from server.config import Settings
from server.push.vapid import KEY_FILE, b64url, load_vapid_keys


def settings(data_dir: Path, **overrides: object) -> Settings:
    return replace(Settings.from_env({"DATA_DIR": str(data_dir)}), **overrides)  # type: ignore[arg-type]


def test_a_generated_key_pair_is_written_once_and_reused(tmp_path: Path) -> None:
    first = load_vapid_keys(settings(tmp_path))

    assert (tmp_path / KEY_FILE).read_text() == first.private_key
    assert load_vapid_keys(settings(tmp_path)) == first
    assert load_vapid_keys(settings(tmp_path / "elsewhere")) != first


def test_a_configured_key_is_used_and_its_public_key_derived(tmp_path: Path) -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    raw = b64url(private.private_numbers().private_value.to_bytes(32, "big"))
    public = b64url(private.public_key().public_bytes(serialization.Encoding.X962,
                                                      serialization.PublicFormat.UncompressedPoint))
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()

    keys = load_vapid_keys(settings(tmp_path, vapid_private_key=raw, vapid_public_key=public))

    assert (keys.private_key, keys.public_key) == (raw, public)
    assert load_vapid_keys(settings(tmp_path, vapid_private_key=pem)) == keys
    assert not (tmp_path / KEY_FILE).exists()
    signed = keys.signer().sign({"aud": "https://push.example", "exp": 4_000_000_000, "sub": "mailto:a@b.c"})
    assert Vapid02.verify(signed["Authorization"])


def test_mismatched_or_lone_public_key_is_refused(tmp_path: Path) -> None:
    other = load_vapid_keys(settings(tmp_path / "other"))
    mine = load_vapid_keys(settings(tmp_path / "mine"))

    with pytest.raises(ValueError, match="does not belong"):
        load_vapid_keys(settings(tmp_path, vapid_private_key=mine.private_key, vapid_public_key=other.public_key))
    with pytest.raises(ValueError, match="without VAPID_PRIVATE_KEY"):
        load_vapid_keys(settings(tmp_path, vapid_public_key=mine.public_key))
