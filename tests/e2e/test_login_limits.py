"""Login hardening (issue 7), driven through `POST /login` and the socket's `user_login`:

- brute force: 100 wrong passwords in 10 s were all answered 401, then the right one worked. Now
  failed logins are limited per (organization, login) and per remote address (429 + `retry_after`);
- hashing: a burst of logins queued without bound behind the cores. Now the queue is bounded and a
  hash beyond it is refused at once with 503;
- enumeration by timing: an unknown login skipped the hash (1.3 ms against 95 ms). Now it is
  verified against a dummy hash: both paths call the hasher once.

Clients pick their source address on the loopback (127.0.0.2, 127.0.0.3, ...) to be distinct addresses.
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis
import redis.asyncio
from argon2 import PasswordHasher as Argon2Hasher

from protocol.errors import ApiError
from server.config import Settings
from server.security.login_limits import LoginLimits
from server.security.passwords import PasswordHasher
from tests.client import ChatClient, ServerInfo
from tests.conftest import make_settings
from tests.redis_server import RedisServer, running_redis

LIMIT = 5
PASSWORD = "secret-pass-1"
WRONG = "wrong-pass-1"
FAST = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}
BUSY = {"status": 503, "message": "Server busy, try again later."}
WRONG_CREDENTIALS = {"status": 401, "message": "Incorrect username or password."}


@pytest.fixture(scope="module")
def redis_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with running_redis(tmp_path_factory.mktemp("login-redis")) as process:
        yield process


@pytest.fixture
def server_settings(tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """`LIMIT` failed logins a minute; `@pytest.mark.parametrize("server_settings", ["redis"],
    indirect=True)` counts them in a fresh Redis."""
    settings = make_settings(tmp_path / "data", login_rate_limit_per_minute=LIMIT)
    if getattr(request, "param", None) == "redis":
        process: RedisServer = request.getfixturevalue("redis_process")
        process.start()
        with redis.Redis.from_url(process.url) as client:
            client.flushall()
        settings = replace(settings, redis_url=process.url)
    return settings


async def http_login(server: ServerInfo, login: str, password: str, address: str = "127.0.0.1",
                     **extra: Any) -> tuple[int, dict[str, Any], Any]:
    """`POST /login` from `address`: (status, body, headers)."""
    payload = {"login": login, "password": password, "device_id": "d1", **extra}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(address, 0))) as session:
        async with session.post(server.http_url + "/login", json=payload) as resp:
            return resp.status, await resp.json(), resp.headers


async def socket_login(server: ServerInfo, login: str, password: str, address: str = "127.0.0.1") -> dict[str, Any]:
    """`user_login` on a fresh socket from `address`: the response body."""
    client = await ChatClient.open(server.ws_url, local_addr=(address, 0))
    try:
        return await client.request("user_login", {"login": login, "password": password, "device_id": "d2"},
                                    ok=False)
    finally:
        await client.close()


async def statuses(server: ServerInfo, login: str, password: str, address: str, times: int) -> list[int]:
    return [(await http_login(server, login, password, address))[0] for _ in range(times)]


async def until(condition: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


def assert_retry_after(status: int, body: dict[str, Any], headers: Any) -> int:
    assert status == 429, body
    error = body["error"]
    assert (error["status"], error["message"]) == (429, "Too many requests.")
    assert isinstance(error["retry_after"], int) and 1 <= error["retry_after"] <= 60, error
    assert headers["Retry-After"] == str(error["retry_after"])
    return int(error["retry_after"])


# -- per login, per address ------------------------------------------------------------------------


async def test_past_the_limit_even_the_right_password_is_429(server: ServerInfo) -> None:
    await server.create_user("victim")

    assert await statuses(server, "victim", WRONG, "127.0.0.2", LIMIT) == [401] * LIMIT
    assert_retry_after(*await http_login(server, "victim", WRONG, "127.0.0.2"))

    # The guesser's right guess, and the owner's own login from elsewhere, wait for the window.
    assert_retry_after(*await http_login(server, "victim", PASSWORD, "127.0.0.2"))
    assert_retry_after(*await http_login(server, "victim", PASSWORD, "127.0.0.3"))


async def test_socket_user_login_shares_the_counters(server: ServerInfo) -> None:
    await server.create_user("sock")
    assert await statuses(server, "sock", WRONG, "127.0.0.2", 3) == [401] * 3
    for address in ("127.0.0.3", "127.0.0.4"):
        assert (await socket_login(server, "sock", WRONG, address))["error"] == WRONG_CREDENTIALS

    error = (await socket_login(server, "sock", PASSWORD, "127.0.0.5"))["error"]

    assert (error["status"], error["message"]) == (429, "Too many requests.") and 1 <= error["retry_after"] <= 60


async def test_one_address_is_limited_across_logins(server: ServerInfo) -> None:
    await server.create_user("bystander")
    logins = [f"guess{i}" for i in range(LIMIT)]  # none exists: they count all the same

    assert [(await http_login(server, login, WRONG, "127.0.0.2"))[0] for login in logins] == [401] * LIMIT
    assert_retry_after(*await http_login(server, "bystander", PASSWORD, "127.0.0.2"))

    assert (await http_login(server, "guess0", WRONG, "127.0.0.3"))[0] == 401  # another address: its own count
    assert (await http_login(server, "bystander", PASSWORD, "127.0.0.3"))[0] == 200


async def test_a_success_clears_the_failures_of_the_login(server: ServerInfo) -> None:
    await server.create_user("typo")
    assert await statuses(server, "typo", WRONG, "127.0.0.2", LIMIT - 1) == [401] * (LIMIT - 1)
    assert (await http_login(server, "typo", PASSWORD, "127.0.0.2"))[0] == 200

    assert await statuses(server, "typo", WRONG, "127.0.0.3", LIMIT) == [401] * LIMIT  # a fresh count
    assert (await http_login(server, "typo", WRONG, "127.0.0.4"))[0] == 429


async def test_successful_logins_do_not_use_up_the_address(server: ServerInfo) -> None:
    await server.create_user("office")

    assert await statuses(server, "office", PASSWORD, "127.0.0.2", 2 * LIMIT + 1) == [200] * (2 * LIMIT + 1)


# -- counted in Redis when configured --------------------------------------------------------------


@pytest.mark.parametrize("server_settings", ["redis"], indirect=True)
async def test_with_redis_the_counts_live_in_redis(server: ServerInfo, redis_process: RedisServer) -> None:
    await server.create_user("shared")
    async with redis.asyncio.Redis.from_url(redis_process.url) as client:
        assert await statuses(server, "shared", WRONG, "127.0.0.2", LIMIT) == [401] * LIMIT
        assert (await http_login(server, "shared", WRONG, "127.0.0.2"))[0] == 429
        keys = [key async for key in client.scan_iter("login_attempts:*")]
        assert len(keys) == 2  # the login's and the address's
        assert all(0 < ttl <= 60_000 for ttl in [await client.pttl(key) for key in keys])

        await client.delete(*keys)  # what Redis forgets, no node remembers

        assert (await http_login(server, "shared", WRONG, "127.0.0.2"))[0] == 401


async def test_nodes_on_one_redis_share_the_counts(redis_process: RedisServer) -> None:
    settings = Settings(redis_url=redis_process.url, login_rate_limit_per_minute=2)
    node_a, node_b = LoginLimits.from_settings(settings), LoginLimits.from_settings(settings)
    org = "a" * 24
    try:
        await node_a.begin(org, "nodes", "10.0.0.1")
        await node_b.begin(org, "nodes", "10.0.0.2")
        with pytest.raises(ApiError) as refused:
            await node_a.begin(org, "nodes", "10.0.0.3")
        assert refused.value.status == 429
    finally:
        await node_a.close()
        await node_b.close()


@pytest.mark.parametrize("server_settings", ["redis"], indirect=True)
async def test_a_frozen_redis_falls_back_to_memory(server: ServerInfo, redis_process: RedisServer) -> None:
    await server.create_user("frozen")
    assert redis_process.process is not None
    redis_process.process.send_signal(signal.SIGSTOP)
    try:
        started = time.monotonic()
        first = await http_login(server, "frozen", WRONG, "127.0.0.2")
        assert first[0] == 401 and time.monotonic() - started < 2.0  # answered, not stuck on Redis
        assert await statuses(server, "frozen", WRONG, "127.0.0.2", LIMIT - 1) == [401] * (LIMIT - 1)
        assert (await http_login(server, "frozen", WRONG, "127.0.0.2"))[0] == 429  # counted in memory
    finally:
        redis_process.process.send_signal(signal.SIGCONT)


# -- the queue of hashes ---------------------------------------------------------------------------


class GatedArgon2(Argon2Hasher):
    """Verifications wait for `gate`, so a test holds the hasher busy as long as it needs."""

    def __init__(self) -> None:
        super().__init__(**FAST)
        self.gate = threading.Event()

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:  # noqa: A002 - argon2's name
        self.gate.wait(10)
        return super().verify(hash, password)


@pytest.fixture
async def gated(server: ServerInfo) -> AsyncIterator[tuple[PasswordHasher, GatedArgon2]]:
    """One hash at a time and one waiting: what 32 concurrent logins meet on a small machine."""
    argon = GatedArgon2()
    hasher = PasswordHasher(argon, slots=1, queue_max=1)
    original, server.app.services.passwords = server.app.services.passwords, hasher
    try:
        yield hasher, argon
    finally:
        argon.gate.set()
        server.app.services.passwords = original


async def test_logins_beyond_the_hash_queue_are_refused_at_once(
        server: ServerInfo, gated: tuple[PasswordHasher, GatedArgon2]) -> None:
    await server.create_user("busy")
    hasher, argon = gated
    waiting = [asyncio.create_task(http_login(server, "busy", WRONG, f"127.0.0.{i}")) for i in (2, 3)]
    await until(lambda: hasher.pending == 2, "one hash running and one queued")

    status, body, _ = await asyncio.wait_for(http_login(server, "busy", PASSWORD, "127.0.0.4"), 5)
    over_socket = await socket_login(server, "busy", PASSWORD, "127.0.0.5")

    assert (status, body) == (503, {"error": BUSY})
    assert over_socket["error"] == BUSY
    argon.gate.set()
    assert [result[0] for result in await asyncio.gather(*waiting)] == [401, 401]
    # Refused unchecked, those two attempts did not count: two failures so far, the right one passes.
    assert (await http_login(server, "busy", PASSWORD, "127.0.0.4"))[0] == 200


# -- no user enumeration by timing -----------------------------------------------------------------


class CountingArgon2(Argon2Hasher):
    def __init__(self) -> None:
        super().__init__(**FAST)
        self.verifications = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:  # noqa: A002 - argon2's name
        self.verifications += 1
        return super().verify(hash, password)


async def test_an_unknown_login_is_verified_like_a_wrong_password(server: ServerInfo) -> None:
    await server.create_user("known")
    argon = CountingArgon2()
    server.app.services.passwords = PasswordHasher(argon)

    known = await http_login(server, "known", WRONG, "127.0.0.2")
    assert argon.verifications == 1
    unknown = await http_login(server, "nobody", WRONG, "127.0.0.3")
    assert argon.verifications == 2
    elsewhere = await http_login(server, "known", WRONG, "127.0.0.4", organizationId="b" * 24)
    assert argon.verifications == 3
    over_socket = await socket_login(server, "nobody", WRONG, "127.0.0.5")
    assert argon.verifications == 4

    assert [known[:2], unknown[:2], elsewhere[:2]] == [(401, {"error": WRONG_CREDENTIALS})] * 3
    assert over_socket["error"] == WRONG_CREDENTIALS
