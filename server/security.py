"""Passwords (argon2id) and tokens (JWT access and rotating refresh tokens)."""

from __future__ import annotations

import asyncio
import os
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import jwt
from argon2 import PasswordHasher as Argon2Hasher
from argon2.exceptions import InvalidHashError, VerificationError

from protocol.errors import SERVER_BUSY, TOKEN_EXPIRED, TOKEN_INCORRECT, error
from server.config import Settings

T = TypeVar("T")


class PasswordHasher:
    """argon2id hashing, off the event loop (hashing costs tens of milliseconds by design).

    At most `slots` hashes run at once (one per core by default) and at most `queue_max` wait for a
    slot; beyond that a hash is refused at once with 503, so a burst of logins cannot put a correct
    one seconds behind it. `verify(None, ...)` checks against a dummy hash made once with the same
    parameters, so an unknown login costs what a wrong password costs.
    """

    def __init__(self, hasher: Argon2Hasher | None = None, *, slots: int | None = None,
                 queue_max: int | None = None) -> None:
        self._hasher = hasher or Argon2Hasher()
        # Each hash takes memory_cost KiB (64 MiB by default): no more at once than there are cores.
        self._capacity = max(1, slots or os.cpu_count() or 1)
        self._slots = asyncio.Semaphore(self._capacity)
        self._queue_max = None if queue_max is None else max(0, queue_max)
        self.pending = 0  # hashes running or waiting for a slot
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))

    @classmethod
    def from_settings(cls, settings: Settings) -> PasswordHasher:
        return cls(Argon2Hasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_cost,
            parallelism=settings.argon2_parallelism,
        ), queue_max=settings.password_hash_queue_max)

    async def hash(self, password: str) -> str:
        return await self._run(lambda: self._hasher.hash(password))

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """True when `password` matches; None (no such user) is checked against the dummy hash and
        is always False."""
        stored = self._dummy_hash if password_hash is None else password_hash

        def check() -> bool:
            try:
                return self._hasher.verify(stored, password)
            except (VerificationError, InvalidHashError):
                return False

        return await self._run(check) and password_hash is not None

    async def _run(self, work: Callable[[], T]) -> T:
        if self._queue_max is not None and self.pending >= self._capacity + self._queue_max:
            raise error(SERVER_BUSY)
        self.pending += 1
        try:
            async with self._slots:
                return await asyncio.to_thread(work)
        finally:
            self.pending -= 1


@dataclass(frozen=True)
class TokenClaims:
    user_id: str
    organization_id: str
    device_id: str
    jti: str
    expires_at: int  # unix seconds


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


class TokenService:
    """Issues and checks JWTs. Revocation is the device record's job (see DeviceRepository)."""

    ALGORITHM = "HS256"

    def __init__(self, access_secret: str, refresh_secret: str, access_ttl: int, refresh_ttl: int) -> None:
        self._access_secret = access_secret
        self._refresh_secret = refresh_secret
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenService:
        access = settings.jwt_access_secret or load_or_create_secret(settings.data_dir, "jwt_access")
        refresh = settings.jwt_refresh_secret or load_or_create_secret(settings.data_dir, "jwt_refresh")
        return cls(access, refresh, settings.access_token_ttl, settings.refresh_token_ttl)

    def issue_access(self, user_id: str, organization_id: str, device_id: str) -> tuple[str, TokenClaims]:
        return self._issue(self._access_secret, "access", self.access_ttl, user_id, organization_id, device_id)

    def issue_refresh(self, user_id: str, organization_id: str, device_id: str) -> tuple[str, TokenClaims]:
        return self._issue(self._refresh_secret, "refresh", self.refresh_ttl, user_id, organization_id, device_id)

    def decode_access(self, token: str) -> TokenClaims:
        return self._decode(self._access_secret, "access", token)

    def decode_refresh(self, token: str) -> TokenClaims:
        return self._decode(self._refresh_secret, "refresh", token)

    def _issue(
        self, secret: str, kind: str, ttl: int, user_id: str, organization_id: str, device_id: str
    ) -> tuple[str, TokenClaims]:
        now = int(time.time())
        claims = TokenClaims(user_id, organization_id, device_id, uuid.uuid4().hex, now + ttl)
        payload = {
            "sub": user_id,
            "org": organization_id,
            "device_id": device_id,
            "jti": claims.jti,
            "typ": kind,
            "iat": now,
            "exp": claims.expires_at,
        }
        return jwt.encode(payload, secret, algorithm=self.ALGORITHM), claims

    def _decode(self, secret: str, kind: str, token: str) -> TokenClaims:
        try:
            payload = jwt.decode(token, secret, algorithms=[self.ALGORITHM], options={"require": ["exp", "sub"]})
        except jwt.ExpiredSignatureError as exc:
            raise error(TOKEN_EXPIRED) from exc
        except jwt.PyJWTError as exc:
            raise error(TOKEN_INCORRECT) from exc
        if payload.get("typ") != kind:
            raise error(TOKEN_INCORRECT)
        try:
            return TokenClaims(
                str(payload["sub"]), str(payload["org"]), str(payload["device_id"]), str(payload["jti"]),
                int(payload["exp"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise error(TOKEN_INCORRECT) from exc
