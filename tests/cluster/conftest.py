"""Fixtures for the cluster tests: a real redis-server, and helpers that wait on a condition."""

from __future__ import annotations

import asyncio
import inspect
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager

import pytest
import redis

from handlers.base import Session
from server.cluster.redis_bus import RedisBus
from server.config import Settings
from server.delivery.registry import Registry
from tests.client import ServerInfo
from tests.cluster.nodes import NODE_TTL, Cluster
from tests.redis_server import RedisServer, running_redis

DEADLINE = 10.0


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with running_redis(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """An empty Redis (restarted when a previous test stopped it)."""
    redis_server.start()
    with redis.Redis.from_url(redis_server.url) as client:
        client.flushall()
    return redis_server.url


async def eventually(condition: Callable[[], object], what: str, timeout: float = DEADLINE) -> None:
    """Polls a condition (plain or async) that something in the background will make true, up to a
    bounded deadline: for state with no event to await (a key expiring, another process)."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.02)


@contextmanager
def running_cluster(tmp_path_factory: pytest.TempPathFactory, size: int,
                    env: dict[str, str] | None = None) -> Iterator[Cluster]:
    """A redis-server of its own and `size` server processes sharing one database; `env` is added
    to every node's environment."""
    work_dir = tmp_path_factory.mktemp("cluster")
    with running_redis(work_dir / "redis") as redis_server:
        cluster = Cluster(redis_server.url, work_dir, size)
        cluster.redis_server = redis_server
        for node in cluster.nodes:
            node.env.update(env or {})
        try:
            cluster.start()
            yield cluster
        finally:
            cluster.stop()


@pytest.fixture
async def nodes(cluster: Cluster) -> AsyncIterator[list[ServerInfo]]:
    """The running nodes as ServerInfo; clients opened through them are closed after the test."""
    infos = [node.info for node in cluster.nodes]
    try:
        yield infos
    finally:
        for info in infos:
            for client in info.clients:
                await client.close()
            info.clients.clear()


class Observer:
    """A bus in the test process that joins the cluster with no sockets: it asks who is online the
    way every node does, and hears every presence change."""

    def __init__(self, redis_url: str, ttl: float = NODE_TTL) -> None:
        settings = Settings(redis_url=redis_url, node_id=f"observer-{uuid.uuid4().hex[:8]}", cluster_node_ttl=ttl)
        self.bus = RedisBus(settings, Registry())
        self.bus.on_presence = self._heard
        self.heard: list[tuple[str, bool]] = []

    async def _heard(self, session: Session, online: bool, seconds: int, record: bool) -> None:
        self.heard.append((session.user_id, online))

    async def online(self, *user_ids: str) -> set[str]:
        return await self.bus.online_user_ids(list(user_ids))


@pytest.fixture
async def observer(cluster: Cluster) -> AsyncIterator[Observer]:
    watcher = Observer(cluster.redis_url)
    await watcher.bus.start()
    try:
        yield watcher
    finally:
        await watcher.bus.stop()
