"""Push with Redis: the queue is a Redis stream, and while Redis is away events wait in the database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from server.config import Settings
from server.push.queue import GROUP, STREAM
from tests.chat_helpers import users
from tests.client import ServerInfo
from tests.conftest import make_settings
from tests.e2e.push_helpers import StandInPushService, push_to, running_push_service, subscribe
from tests.redis_server import RedisServer, redis_server_binary


@pytest.fixture
async def push_service() -> AsyncIterator[StandInPushService]:
    async with running_push_service() as service:
        yield service


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    if redis_server_binary() is None:
        pytest.skip("redis-server is not installed (run `make services`)")
    redis_server = RedisServer(tmp_path / "redis")
    redis_server.start()
    try:
        yield redis_server
    finally:
        redis_server.stop()


@pytest.fixture
def server_settings(tmp_path: Path, redis_server: RedisServer) -> Settings:
    """The `server` fixture, as one node with REDIS_URL set (the stand-in push service is on loopback)."""
    return make_settings(tmp_path / "node", redis_url=redis_server.url, push_allow_private_endpoints=True)


async def test_with_redis_events_go_through_the_push_stream(
    server: ServerInfo, redis_server: RedisServer, push_service: StandInPushService
) -> None:
    alice, bob = await users(server, "alice", "bob")
    browser = await subscribe(bob, push_service, "bob")

    await push_to(alice, bob, title="via stream")

    assert browser.decrypt(await push_service.next_request()) == {"title": "via stream", "body": "Message body"}
    async with Redis.from_url(redis_server.url, decode_responses=True) as redis:
        stream = await redis.xinfo_stream(STREAM)
        groups = await redis.xinfo_groups(STREAM)
    assert stream["last-generated-id"] != "0-0"
    assert [group["name"] for group in groups] == [GROUP]


async def test_with_redis_away_events_wait_in_the_database_and_still_arrive(
    server: ServerInfo, redis_server: RedisServer, push_service: StandInPushService
) -> None:
    alice, bob = await users(server, "alice", "bob")
    browser = await subscribe(bob, push_service, "bob")
    redis_server.stop()

    await push_to(alice, bob, title="without redis")

    assert browser.decrypt(await push_service.next_request()) == {"title": "without redis", "body": "Message body"}
