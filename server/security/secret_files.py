"""Secrets generated once into DATA_DIR (JWT keys, the URL-signing key of local files, VAPID keys)."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path


def load_or_create_secret(data_dir: Path, name: str, generate: Callable[[], str] | None = None) -> str:
    """A secret kept in DATA_DIR as `<name>.secret`, created once by `generate` (random text by
    default); O_EXCL makes concurrent first starts agree."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / f"{name}.secret"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):
            value = path.read_text().strip()
            if value:
                return value
            time.sleep(0.01)  # another process is writing it right now
        raise RuntimeError(f"{path} is empty") from None
    value = generate() if generate is not None else secrets.token_urlsafe(48)
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    return value
