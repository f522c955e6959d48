"""Passwords: argon2id hashing, off the event loop and bounded."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Callable
from typing import TypeVar

from argon2 import PasswordHasher as Argon2Hasher
from argon2.exceptions import InvalidHashError, VerificationError

from protocol.errors import SERVER_BUSY, error
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
