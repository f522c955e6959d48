"""Failed-login limits: at most LOGIN_RATE_LIMIT_PER_MINUTE per (organization, login) and per
remote address, shared by `POST /login` and the socket's `user_login`.

Every password attempt is counted *before* its hash is checked (so concurrent guesses cannot all
slip under the limit); a success refunds it: the (organization, login) counter is cleared and the
address counter gives its one back. A counter's window is one minute from its first attempt; over
the limit the answer is 429 with `retry_after`, the seconds until that window ends. The right
password is refused too while the limit holds: that is what stops guessing.

With REDIS_URL the counters live in Redis (every node sees the same ones), through a client of its
own with REDIS_COMMAND_TIMEOUT; when Redis fails the counters fall back to this node's memory for
REDIS_BREAKER_COOLDOWN seconds, so a login never waits on a dead Redis.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import time
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from handlers.ports import LoginAttempt
from protocol.errors import too_many_logins
from server.cluster.link import REDIS_ERRORS, RedisBreaker
from server.config import Settings

log = logging.getLogger(__name__)

WINDOW = 60.0  # seconds: the limit is per minute
KEY_PREFIX = "login_attempts:"
MEMORY_PRUNE_AT = 10_000  # counters kept in memory before expired ones are swept
MEMORY_MAX = 100_000  # beyond it the oldest counters are dropped (an address spray cannot grow memory)

# Gives back one attempt only while the counter exists: a DECR of an expired key would create one
# without expiry.
_REFUND = "if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('DECR', KEYS[1]) end return 0"


class Counters(Protocol):
    async def add(self, keys: list[str]) -> list[tuple[int, float]]:
        """Counts one attempt on each key; (count, seconds left in its window) for each."""

    async def refund(self, key: str) -> None:
        """Takes one attempt back."""

    async def clear(self, key: str) -> None:
        """Forgets the key's attempts."""


class MemoryCounters:
    """This node's counters: key -> [count, window end (monotonic)]."""

    def __init__(self, window: float = WINDOW) -> None:
        self.window = window
        self._counts: dict[str, list[float]] = {}

    async def add(self, keys: list[str]) -> list[tuple[int, float]]:
        now = time.monotonic()
        self._prune(now)
        results = []
        for key in keys:
            entry = self._counts.get(key)
            if entry is None or entry[1] <= now:
                self._counts.pop(key, None)  # re-inserted last: the dict stays in window order
                entry = self._counts[key] = [0, now + self.window]
            entry[0] += 1
            results.append((int(entry[0]), entry[1] - now))
        return results

    async def refund(self, key: str) -> None:
        entry = self._counts.get(key)
        if entry is not None and entry[0] > 0:
            entry[0] -= 1

    async def clear(self, key: str) -> None:
        self._counts.pop(key, None)

    def _prune(self, now: float) -> None:
        if len(self._counts) < MEMORY_PRUNE_AT:
            return
        for key in [key for key, (_, ends) in self._counts.items() if ends <= now]:
            del self._counts[key]
        while len(self._counts) > MEMORY_MAX:
            del self._counts[next(iter(self._counts))]


class RedisCounters:
    """Counters in Redis: `SET NX PX` starts a window, `INCR` keeps its expiry."""

    def __init__(self, url: str, timeout: float, window: float = WINDOW) -> None:
        self.timeout = timeout
        self.window_ms = int(window * 1000)
        self.redis: Redis = Redis.from_url(url, decode_responses=True, retry=Retry(NoBackoff(), 0),
                                           socket_timeout=timeout, socket_connect_timeout=timeout)
        self._refund = self.redis.register_script(_REFUND)

    async def add(self, keys: list[str]) -> list[tuple[int, float]]:
        pipe = self.redis.pipeline(transaction=True)
        for key in keys:
            pipe.set(key, 0, px=self.window_ms, nx=True)
            pipe.incr(key)
            pipe.pttl(key)
        replies = await self._bounded(pipe.execute())
        return [(int(replies[i + 1]), max(0, int(replies[i + 2])) / 1000) for i in range(0, len(replies), 3)]

    async def refund(self, key: str) -> None:
        await self._bounded(self._refund(keys=[key]))

    async def clear(self, key: str) -> None:
        await self._bounded(self.redis.delete(key))

    async def close(self) -> None:
        await self.redis.aclose()

    async def _bounded(self, call: Any) -> Any:
        # The socket timeout covers a silent Redis; this covers a slow trickle of replies too.
        return await asyncio.wait_for(call, self.timeout * 2)


class FallbackCounters:
    """Redis while it answers; this node's memory while the breaker is open (its cooldown after a
    failure), the same breaker the cluster link and the push queue use."""

    def __init__(self, redis: RedisCounters, memory: MemoryCounters, breaker: RedisBreaker) -> None:
        self.redis = redis
        self.memory = memory
        self.breaker = breaker

    async def add(self, keys: list[str]) -> list[tuple[int, float]]:
        result = await self._try("add", keys)
        return result if result is not None else await self.memory.add(keys)

    async def refund(self, key: str) -> None:
        await self._try("refund", key)
        await self.memory.refund(key)

    async def clear(self, key: str) -> None:
        await self._try("clear", key)
        await self.memory.clear(key)

    async def _try(self, name: str, argument: Any) -> Any:
        if not self.breaker.closed:
            return None
        try:
            return await getattr(self.redis, name)(argument)
        except REDIS_ERRORS as exc:
            log.warning("login counters: redis failed (%s); counting in memory for %.1f s", exc,
                        self.breaker.cooldown)
            self.breaker.trip()
            return None


class LoginLimits:
    def __init__(self, limit: int, counters: Counters) -> None:
        self.limit = limit  # 0 or less: no limit
        self.counters = counters

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginLimits:
        memory = MemoryCounters()
        if not settings.redis_url:
            return cls(settings.login_rate_limit_per_minute, memory)
        redis = RedisCounters(settings.redis_url, settings.redis_command_timeout)
        return cls(settings.login_rate_limit_per_minute,
                   FallbackCounters(redis, memory, RedisBreaker(settings.redis_command_timeout,
                                                                settings.redis_breaker_cooldown)))

    async def begin(self, organization_id: str, login: str, address: str | None) -> LoginAttempt:
        """Counts an attempt; 429 (`retry_after`) when the login or the address is over the limit."""
        attempt = LoginAttempt(_key("login", organization_id, login), _key("address", address) if address else None)
        if self.limit <= 0:
            return attempt
        keys = [attempt.login_key] + ([attempt.address_key] if attempt.address_key else [])
        over = [left for count, left in await self.counters.add(keys) if count > self.limit]
        if over:
            raise too_many_logins(max(1, math.ceil(max(over))))
        return attempt

    async def succeeded(self, attempt: LoginAttempt) -> None:
        """The right password: the login's failures are forgotten; the address gets its attempt back."""
        if self.limit <= 0:
            return
        await self.counters.clear(attempt.login_key)
        if attempt.address_key:
            await self.counters.refund(attempt.address_key)

    async def not_checked(self, attempt: LoginAttempt) -> None:
        """The password was never checked (the server was busy): the attempt does not count."""
        if self.limit <= 0:
            return
        await self.counters.refund(attempt.login_key)
        if attempt.address_key:
            await self.counters.refund(attempt.address_key)

    async def close(self) -> None:
        redis = getattr(self.counters, "redis", None)
        if isinstance(redis, RedisCounters):
            await redis.close()


def _key(*parts: str) -> str:
    # Hashed: a login is client text of any length; the key stays short and safe for Redis.
    return KEY_PREFIX + hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:40]

