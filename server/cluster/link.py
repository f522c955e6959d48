"""A node's link to Redis: connection, subscription, heartbeat, peers' liveness, and reconnection.

The link is healthy while Redis answers. Any failed call marks it lost; the supervisor then
reconnects with exponential backoff and, once Redis answers, calls the owner back to register its
sessions again. Callers never wait for Redis to come back: while the link is lost, `client()` is None
and they fall back to what this node knows alone.

The lost state is the circuit breaker of every call on a packet's path: such a call runs under
`bounded()` (REDIS_COMMAND_TIMEOUT, a fraction of a second), and one that fails or overruns marks
the link lost, so the packets after it skip Redis at once. The supervisor tries again no sooner
than REDIS_BREAKER_COOLDOWN later, in the background: no packet ever waits on a probe.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from server.cluster.keys import (
    BIND_SCRIPT,
    NODES_KEY,
    PRESENCE_CHANNEL,
    REAP_SCRIPT,
    UNBIND_SCRIPT,
    deliver_channel,
    node_key,
    reap_key,
)
from server.config import without_credentials

log = logging.getLogger(__name__)

REDIS_ERRORS = (RedisError, OSError, asyncio.TimeoutError)
BACKOFF_MIN = 0.1
BACKOFF_MAX = 5.0
LEAVE_DEADLINE = 3.0  # seconds a stopping node spends telling Redis it leaves (Redis may be frozen)


class RedisBreaker:
    """Bounds Redis calls that a packet waits for, and trips after one fails: for `cooldown`
    seconds the caller skips Redis and uses its fallback at once. The first call after the cooldown
    is the probe; it is bounded like any other."""

    def __init__(self, timeout: float, cooldown: float) -> None:
        self.timeout = timeout
        self.cooldown = cooldown
        self._open_until = 0.0

    @property
    def closed(self) -> bool:
        """True while Redis may be called."""
        return time.monotonic() >= self._open_until

    def remaining(self) -> float:
        """Seconds until Redis may be called again."""
        return max(0.0, self._open_until - time.monotonic())

    def trip(self) -> None:
        self._open_until = time.monotonic() + self.cooldown

    def bounded(self) -> asyncio.Timeout:
        """`async with breaker.bounded():` around the Redis calls; overrunning raises TimeoutError
        (one of REDIS_ERRORS), and redis-py drops the connection the cancelled call was using."""
        return asyncio.timeout(self.timeout)


class RedisLink:
    def __init__(self, url: str, node_id: str, ttl: float, command_timeout: float = 0.25,
                 cooldown: float = 2.0) -> None:
        self.url = url
        self.node_id = node_id
        self.ttl = max(ttl, 0.3)
        self.heartbeat = self.ttl / 3
        self.backoff_max = min(BACKOFF_MAX, self.heartbeat)
        self.breaker = RedisBreaker(command_timeout, cooldown)
        self.joined = asyncio.Event()  # set while this node is registered in Redis
        self.scripts: dict[str, Any] = {}
        # set by the owner before start()
        self.on_joined: Callable[[Redis], Awaitable[None]] | None = None
        self.on_message: Callable[[str, str], None] | None = None
        self.on_peer_dead: Callable[[Redis, str], Coroutine[Any, Any, None]] | None = None
        self._redis: Redis | None = None
        self._pubsub: PubSub | None = None
        self._listener: asyncio.Task[None] | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self._healthy = False
        self._wake = asyncio.Event()
        self._alive_until: dict[str, float] = {}  # peer -> monotonic time its liveness key lasts to
        self._in_flight: set[asyncio.Timeout] = set()  # deadlines of the bounded calls under way

    @property
    def ttl_ms(self) -> int:
        return int(self.ttl * 1000)

    def client(self) -> Redis | None:
        """The connection to use, or None while Redis is away."""
        return self._redis if self._healthy else None

    @contextlib.asynccontextmanager
    async def bounded(self) -> AsyncIterator[None]:
        """The deadline of a call on a packet's path (REDIS_COMMAND_TIMEOUT). When the link is lost,
        every bounded call still under way ends at once: no packet waits out its own timeout."""
        async with self.breaker.bounded() as deadline:
            self._in_flight.add(deadline)
            try:
                yield
            finally:
                self._in_flight.discard(deadline)

    def lost(self, redis: Redis, reason: object, cool_down: bool = True) -> None:
        """A call on `redis` failed: serve locally and let the supervisor reconnect, after the
        breaker's cooldown unless Redis is known to answer (`cool_down=False`)."""
        if redis is not self._redis or not self._healthy:
            return  # an older connection, or already known
        log.warning("lost redis (%s): node %s delivers locally until it is back",
                    str(reason) or type(reason).__name__, self.node_id)
        if cool_down:
            self.breaker.trip()
        self._healthy = False
        now = asyncio.get_running_loop().time()
        for deadline in list(self._in_flight):
            if not deadline.expired():  # an expiring one is already ending its call
                deadline.reschedule(now)
        self.joined.clear()
        self._wake.set()

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def forget_peer(self, node_id: str) -> None:
        self._alive_until.pop(node_id, None)

    async def start(self) -> None:
        try:
            await self._join()
        except REDIS_ERRORS as exc:  # the node serves alone until Redis answers
            log.error("redis at %s unreachable at start (%s); node %s runs alone and keeps retrying",
                      without_credentials(self.url), exc, self.node_id)
        self._supervisor = asyncio.create_task(self._supervise(), name=f"cluster-{self.node_id}")

    async def stop(self, leave: Callable[[Redis], Awaitable[None]]) -> None:
        """Runs `leave`, then deletes this node's liveness key and tells the peers."""
        for task in (self._supervisor, *self._background):
            if task is not None:
                task.cancel()
        redis = self.client()
        if redis is not None:
            try:
                async with asyncio.timeout(LEAVE_DEADLINE):
                    await leave(redis)
                    pipe = redis.pipeline(transaction=False)
                    pipe.delete(node_key(self.node_id))
                    pipe.srem(NODES_KEY, self.node_id)
                    pipe.publish(PRESENCE_CHANNEL, orjson.dumps({"k": "left", "n": self.node_id}))
                    await pipe.execute()
            except REDIS_ERRORS as exc:
                log.warning("could not leave the cluster cleanly: %s", exc)
        self._healthy = False
        self.joined.clear()
        await self._disconnect()

    async def _join(self) -> None:
        """Connects, subscribes, marks this node alive, then lets the owner register its sessions."""
        await self._disconnect()
        redis = Redis.from_url(
            self.url, decode_responses=True, retry=Retry(NoBackoff(), 0),
            socket_timeout=max(1.0, self.heartbeat), socket_connect_timeout=max(1.0, self.heartbeat),
        )
        self._redis = redis
        self.scripts = {name: redis.register_script(text) for name, text in
                        (("bind", BIND_SCRIPT), ("unbind", UNBIND_SCRIPT), ("reap", REAP_SCRIPT))}
        await redis.ping()
        listening = await redis.pubsub_numsub(deliver_channel(self.node_id))
        if listening and listening[0][1]:
            log.error("another process already listens as node %s: NODE_ID must be unique", self.node_id)
        pubsub = redis.pubsub(ignore_subscribe_messages=True)
        self._pubsub = pubsub
        await pubsub.subscribe(deliver_channel(self.node_id), PRESENCE_CHANNEL)
        self._listener = asyncio.create_task(self._listen(redis, pubsub), name="cluster-listener")
        pipe = redis.pipeline(transaction=False)
        pipe.set(node_key(self.node_id), str(time.time()), px=self.ttl_ms)
        pipe.sadd(NODES_KEY, self.node_id)
        await pipe.execute()
        self._healthy = True  # from here on, binds and unbinds write to Redis themselves
        if self.on_joined is not None:
            await self.on_joined(redis)
        self.joined.set()
        log.info("node %s joined the cluster at %s", self.node_id, without_credentials(self.url))

    async def _disconnect(self) -> None:
        listener, pubsub, redis = self._listener, self._pubsub, self._redis
        self._listener = self._pubsub = self._redis = None
        if listener is not None:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await listener
        for resource in (pubsub, redis):
            if resource is not None:
                with contextlib.suppress(*REDIS_ERRORS, RuntimeError):
                    await resource.aclose()

    async def _supervise(self) -> None:
        """Heartbeats while Redis answers; reconnects with exponential backoff while it does not."""
        backoff = BACKOFF_MIN
        while True:
            if not self._healthy:
                if self.breaker.remaining() > 0:  # a failure just tripped the breaker: skip Redis a while
                    await asyncio.sleep(self.breaker.remaining())
                try:
                    await self._join()
                    backoff = BACKOFF_MIN
                except Exception as exc:  # noqa: BLE001 - any failure here means "try again later"
                    self._healthy = False
                    log.warning("redis unreachable (%s); retrying in %.1fs", exc, backoff)
                    await self._sleep(backoff)
                    backoff = min(backoff * 2, self.backoff_max)
                    continue
            await self._sleep(self.heartbeat)
            redis = self.client()
            if redis is None:
                continue
            try:
                await self._beat(redis)
            except REDIS_ERRORS as exc:
                self.lost(redis, exc)
            except Exception:
                log.exception("cluster heartbeat failed")

    async def _sleep(self, seconds: float) -> None:
        """Waits, or less when a call finds Redis gone."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()

    async def _beat(self, redis: Redis) -> None:
        """Refreshes this node's liveness key and has one node clean up each peer that died."""
        pipe = redis.pipeline(transaction=False)
        pipe.set(node_key(self.node_id), str(time.time()), px=self.ttl_ms, get=True)
        pipe.sadd(NODES_KEY, self.node_id)
        pipe.smembers(NODES_KEY)
        previous, _, nodes = await pipe.execute()
        if previous is None:  # Redis restarted empty, or this node was presumed dead: register again
            self.lost(redis, "this node's registration was lost", cool_down=False)
            return
        peers = sorted(str(node) for node in nodes if node != self.node_id)
        if not peers:
            return
        pipe = redis.pipeline(transaction=False)
        for peer in peers:
            pipe.exists(node_key(peer))
        for peer, alive in zip(peers, await pipe.execute(), strict=True):
            if not alive and await redis.set(reap_key(peer), self.node_id, nx=True, px=self.ttl_ms):
                self.forget_peer(peer)
                if self.on_peer_dead is not None:
                    self.spawn(self.on_peer_dead(redis, peer))

    async def _listen(self, redis: Redis, pubsub: PubSub) -> None:
        try:
            async for message in pubsub.listen():
                if message.get("type") != "message" or self.on_message is None:
                    continue
                try:
                    self.on_message(message["channel"], message["data"])
                except Exception:
                    log.exception("bad cluster message on %s", message.get("channel"))
        except REDIS_ERRORS as exc:
            self.lost(redis, exc)
            return
        self.lost(redis, "subscription ended")

    async def live_nodes(self, redis: Redis, nodes: set[str]) -> set[str]:
        """The nodes whose liveness key still exists. A key's remaining TTL is cached, so each peer
        is asked about about once per heartbeat and counts as dead as soon as its key expires."""
        now = time.monotonic()
        live = {n for n in nodes if n == self.node_id or self._alive_until.get(n, 0.0) > now}
        unknown = sorted(nodes - live)
        if unknown:
            pipe = redis.pipeline(transaction=False)
            for node in unknown:
                pipe.pttl(node_key(node))
            for node, ttl_ms in zip(unknown, await pipe.execute(), strict=True):
                if ttl_ms > 0 or ttl_ms == -1:  # -1: a key without expiry (set by hand) counts as alive
                    self._alive_until[node] = now + (ttl_ms / 1000 if ttl_ms > 0 else self.heartbeat)
                    live.add(node)
                else:
                    self.forget_peer(node)
        return live
