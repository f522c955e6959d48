"""The push queue: stored push events wait here for the push worker.

With `REDIS_URL` the queue is a Redis stream read through one consumer group, so each event goes to
one worker of the cluster; an entry is acknowledged (XACK) once delivered, and one left pending by a
worker that died is taken over (XAUTOCLAIM) after the lease. Without Redis it is the database's
`push_queue` (storage.push.claim: atomic, leased). The database queue also holds what has to wait:
retries (they are due later) and events put while Redis was unreachable, so a node with Redis
consumes both.

A put never makes a packet wait on Redis: the stream write runs in a background task (at most
`MAX_PENDING_PUTS` at once, drained at stop), bounded by REDIS_COMMAND_TIMEOUT, behind a circuit
breaker; while the breaker is open, or the background set is full, the event goes to the database
queue at once. An XADD that timed out may still reach the stream later, when Redis wakes up: that
event is then pushed twice, never lost.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ResponseError

from schemas.common import new_id, now_ms
from schemas.push import PushEvent, PushQueueItem
from server.cluster.link import REDIS_ERRORS, RedisBreaker
from storage.interface import Storage

log = logging.getLogger(__name__)

STREAM = "chat:push:events"
GROUP = "push-workers"
LEASE_MS = 5 * 60 * 1000  # an event not acknowledged by then is handed to another worker
MAX_PENDING_PUTS = 1000  # stream writes in flight; beyond that a put goes to the database at once
WORKER_TIMEOUT = 5.0  # seconds a worker's call may take beyond its XREADGROUP block (background only)


@dataclass(frozen=True)
class QueuedPush:
    """One event taken from a queue. `attempt` counts from 1; `subscription_ids` narrows a retry to
    the subscriptions that failed (None: all of the recipients'); `receipt` is the queue's handle."""

    event_id: str
    organization_id: str
    receipt: str
    attempt: int = 1
    subscription_ids: list[str] | None = None


class PushQueue(ABC):
    """Where `push_event_create` and the offline-message sink hand stored events to the worker."""

    async def start(self) -> None:  # noqa: B027 - the database queue has nothing to open
        """Opens connections and creates what the queue needs."""

    async def stop(self) -> None:  # noqa: B027
        """Releases connections."""

    @abstractmethod
    async def put(self, event: PushEvent) -> None:
        """Queues a stored event for delivery to every subscription of its recipients."""

    @abstractmethod
    async def take(self, limit: int, wait: float) -> list[QueuedPush]:
        """Up to `limit` events for this worker, waiting up to `wait` seconds for the first one."""

    @abstractmethod
    async def ack(self, item: QueuedPush) -> None:
        """The event was handled (delivered, retried elsewhere, or given up): never hand it out again."""


class DatabasePushQueue(PushQueue):
    def __init__(self, storage: Storage, worker_id: str, lease_ms: int = LEASE_MS) -> None:
        self.storage = storage
        self.worker_id = worker_id
        self.lease_ms = lease_ms
        self._wake = asyncio.Event()  # set by a put on this node: no need to wait for the next poll

    async def put(self, event: PushEvent) -> None:
        await self.enqueue(event.id, event.organization_id, due_at=now_ms())

    async def enqueue(self, event_id: str, organization_id: str, *, due_at: int, attempts: int = 0,
                      subscription_ids: list[str] | None = None) -> None:
        """Queues an event (or the retry of some of its subscriptions) from `due_at` on."""
        await self.storage.push.enqueue(PushQueueItem(
            id=new_id(), organization_id=organization_id, event_id=event_id, subscription_ids=subscription_ids,
            attempts=attempts, due_at=due_at, created_at=now_ms(),
        ))
        self._wake.set()

    async def take(self, limit: int, wait: float) -> list[QueuedPush]:
        self._wake.clear()
        items = await self.storage.push.claim(self.worker_id, now_ms(), self.lease_ms, limit)
        if not items:
            try:
                await asyncio.wait_for(self._wake.wait(), wait)
            except TimeoutError:
                pass
            items = await self.storage.push.claim(self.worker_id, now_ms(), self.lease_ms, limit)
        return [QueuedPush(item.event_id, item.organization_id, item.id, item.attempts, item.subscription_ids)
                for item in items]

    async def ack(self, item: QueuedPush) -> None:
        if not await self.storage.push.complete(item.receipt, self.worker_id):
            log.warning("push queue item %s was no longer held by %s (lease expired?)", item.receipt, self.worker_id)


class RedisPushQueue(PushQueue):
    """A Redis stream with one consumer group; falls back to the database queue for puts while
    Redis is unreachable (nothing acknowledged is lost)."""

    def __init__(self, url: str, consumer: str, fallback: DatabasePushQueue, lease_ms: int = LEASE_MS,
                 command_timeout: float = 0.25, cooldown: float = 2.0,
                 max_pending: int = MAX_PENDING_PUTS) -> None:
        self.url = url
        self.consumer = consumer
        self.fallback = fallback
        self.lease_ms = lease_ms
        self.breaker = RedisBreaker(command_timeout, cooldown)
        self.max_pending = max_pending
        self._redis: Redis | None = None  # the worker's: blocking reads, acks
        self._put_redis: Redis | None = None  # the puts': short calls, never behind a blocked read
        self._pending: set[asyncio.Task[None]] = set()
        self._group_ready = False

    async def start(self) -> None:
        self._redis = self._connect(socket_timeout=None)  # the worker bounds each call itself
        self._put_redis = self._connect(socket_timeout=self.breaker.timeout)
        try:
            async with asyncio.timeout(WORKER_TIMEOUT):
                await self._ensure_group(self._redis)
        except REDIS_ERRORS as exc:
            log.warning("push stream not ready (%s): will retry", exc)

    def _connect(self, socket_timeout: float | None) -> Redis:
        # No retries inside redis-py: a failure goes to the fallback (puts) or the worker's backoff.
        return Redis.from_url(self.url, decode_responses=True, retry=Retry(NoBackoff(), 0),
                              socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout or WORKER_TIMEOUT)

    async def stop(self) -> None:
        """Waits for the puts in flight (each bounded, then queued in the database), then closes."""
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        for redis in (self._redis, self._put_redis):
            if redis is not None:
                await redis.aclose()
        self._redis = self._put_redis = None

    def _client(self) -> Redis:
        if self._redis is None:
            raise RuntimeError("the push queue is not started")
        return self._redis

    async def _ensure_group(self, redis: Redis) -> None:
        if self._group_ready:
            return
        try:
            await redis.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._group_ready = True

    async def put(self, event: PushEvent) -> None:
        """Returns at once: the stream write goes on in the background. While the breaker is open,
        or too many writes are in flight, the event is queued in the database instead."""
        if self._put_redis is None:
            raise RuntimeError("the push queue is not started")
        if not self.breaker.closed or len(self._pending) >= self.max_pending:
            await self.fallback.put(event)
            return
        task = asyncio.create_task(self._put(self._put_redis, event), name=f"push-put-{event.id}")
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _put(self, redis: Redis, event: PushEvent) -> None:
        try:
            async with self.breaker.bounded():
                await redis.xadd(STREAM, {"event_id": event.id, "organization_id": event.organization_id})
            return
        except REDIS_ERRORS as exc:
            if self.breaker.closed:
                log.warning("push stream unreachable (%s); the database queue takes push events for %.1fs",
                            str(exc) or type(exc).__name__, self.breaker.cooldown)
            self.breaker.trip()
        try:
            await self.fallback.put(event)
        except Exception:
            log.exception("push event %s could not be queued anywhere", event.id)

    async def take(self, limit: int, wait: float) -> list[QueuedPush]:
        async with asyncio.timeout(wait + WORKER_TIMEOUT):  # Redis may hang: the worker backs off and retries
            return await self._take(self._client(), limit, wait)

    async def _take(self, redis: Redis, limit: int, wait: float) -> list[QueuedPush]:
        try:
            await self._ensure_group(redis)
            # Entries a dead worker left pending for longer than the lease come to this one first.
            claimed: Any = await redis.xautoclaim(STREAM, GROUP, self.consumer, self.lease_ms,
                                                  start_id="0-0", count=limit)
            entries: list[Any] = list(claimed[1])
            if not entries:
                answer: Any = await redis.xreadgroup(GROUP, self.consumer, {STREAM: ">"}, count=limit,
                                                     block=max(int(wait * 1000), 1))
                # RESP2 answers [[stream, entries]], RESP3 {stream: [entries]}
                streams = answer.items() if isinstance(answer, dict) else (answer or [])
                entries = [entry for _stream, stream_entries in streams for entry in stream_entries]
        except ResponseError as exc:
            if "NOGROUP" in str(exc):
                self._group_ready = False  # Redis lost its data (restarted): create the group again
            raise
        items = [await self._item(redis, entry) for entry in entries]
        return [item for item in items if item is not None]

    async def _item(self, redis: Redis, entry: tuple[str, dict[str, Any] | None]) -> QueuedPush | None:
        entry_id, fields = entry
        if not fields or "event_id" not in fields or "organization_id" not in fields:
            await redis.xack(STREAM, GROUP, entry_id)  # deleted meanwhile, or not ours: nothing to deliver
            return None
        return QueuedPush(str(fields["event_id"]), str(fields["organization_id"]), entry_id)

    async def ack(self, item: QueuedPush) -> None:
        redis = self._client()
        async with asyncio.timeout(WORKER_TIMEOUT), redis.pipeline(transaction=True) as pipe:
            pipe.xack(STREAM, GROUP, item.receipt)
            pipe.xdel(STREAM, item.receipt)
            await pipe.execute()
