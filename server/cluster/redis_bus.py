"""The Redis bus: several nodes behind one Redis deliver as if they were one server.

Each node keeps its sockets in its own registry, writes one entry per bound device to Redis (see
`server/cluster/keys.py`), keeps a liveness key alive with a heartbeat, and listens on its own delivery
channel. A delivery is written to this node's sockets first, then published once to each other live
node that holds a device of a recipient; that node writes it to its own sockets. Nothing reaches a
socket twice because each node only ever writes to the sockets it holds.

When Redis is away the node keeps serving: deliveries go to local sockets, recipients on other nodes
are reported offline (so the push and operations-log sinks keep a copy of what was acknowledged), and
a supervisor reconnects with exponential backoff, then re-registers every local session.

Every call a packet waits for (the rate limit, publish, presence, binds) runs under
`link.bounded()`: a Redis that hangs (frozen, overloaded) costs the packets in flight at most
REDIS_COMMAND_TIMEOUT once, then the link counts as lost and the next packets skip Redis at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Iterable
from typing import Any

import orjson
from redis.asyncio import Redis

from handlers.base import Delivery, Session
from server.cluster.keys import (
    NODES_KEY,
    PRESENCE_CHANNEL,
    Entry,
    deliver_channel,
    node_key,
    org_key,
    session_field,
    sessions_key,
    user_key,
)
from server.cluster.link import REDIS_ERRORS, RedisLink
from server.config import Settings
from server.delivery.bus import Bus
from server.delivery.registry import Registry
from server.transport.connection import CLOSE_REPLACED, Connection

log = logging.getLogger(__name__)

PresenceEvent = tuple[Session, bool, int, bool]


async def members(redis: Redis, key: str) -> list[str]:
    return sorted(str(member) for member in await redis.smembers(key))


class RedisBus(Bus):
    def __init__(self, settings: Settings, registry: Registry) -> None:
        super().__init__(registry, settings.user_rate_limit_per_second)
        if not settings.redis_url:
            raise ValueError("RedisBus needs REDIS_URL")
        self.node_id = settings.node_id or uuid.uuid4().hex
        self.link = RedisLink(settings.redis_url, self.node_id, float(settings.cluster_node_ttl),
                              settings.redis_command_timeout, settings.redis_breaker_cooldown)
        self.link.on_joined = self._joined
        self.link.on_message = self._on_message
        self.link.on_peer_dead = self._reap_peer
        self._presence: asyncio.Queue[PresenceEvent] = asyncio.Queue()
        self._presence_worker: asyncio.Task[None] | None = None

    @property
    def healthy(self) -> bool:
        return self.link.client() is not None

    async def start(self) -> None:
        await self.link.start()
        self._presence_worker = asyncio.create_task(self._presence_loop(), name="cluster-presence")

    async def stop(self) -> None:
        """Leaves at once: this node's entries and liveness key are deleted, peers are told."""
        if self._presence_worker is not None:
            self._presence_worker.cancel()
        await self.link.stop(lambda redis: self._forget_own_entries(redis, everything=True, direct=True))

    async def _joined(self, redis: Redis) -> None:
        """Registers every local session, then drops the entries of sessions gone meanwhile."""
        pipe = redis.pipeline(transaction=False)
        sessions = [c.session for c in self.registry.all() if c.session is not None]
        for session in sessions:
            await self._bind(pipe, session)
        if sessions:
            await pipe.execute()
        await self._forget_own_entries(redis, everything=False, direct=False)

    # -- sessions ----------------------------------------------------------------------------------

    def _entry(self, session: Session) -> Entry:
        return Entry(self.node_id, session.device_id, session.organization_id)

    async def _bind(self, redis: Any, session: Session) -> Any:
        return await self.link.scripts["bind"](
            keys=[user_key(session.user_id), org_key(session.organization_id), sessions_key(self.node_id)],
            args=[session_field(self.node_id, session.device_id), self._entry(session).encode(), session.user_id],
            client=redis,
        )

    async def _unbind(self, redis: Redis, session: Session) -> list[Entry]:
        rest = await self.link.scripts["unbind"](
            keys=[user_key(session.user_id), org_key(session.organization_id), sessions_key(self.node_id)],
            args=[session_field(self.node_id, session.device_id), session.user_id, self.node_id],
            client=redis,
        )
        return [Entry.decode(raw) for raw in rest]

    async def session_bound(self, connection: Connection) -> bool:
        session = connection.session
        assert session is not None
        local_first = sum(1 for _ in self.registry.devices_of(session.user_id)) == 1
        redis = self.link.client()
        if redis is None:
            return local_first
        try:
            async with self.link.bounded():
                entries = [Entry.decode(raw) for raw in await self._bind(redis, session)]
                others = [e for e in entries if e != self._entry(session)]
                return not await self._live(redis, others)
        except REDIS_ERRORS as exc:
            self.link.lost(redis, exc)
            return local_first

    async def session_unbound(self, connection: Connection, last_local: bool) -> bool:
        session = connection.session
        redis = self.link.client()
        if session is None or redis is None:
            return last_local
        try:
            async with self.link.bounded():
                return not await self._live(redis, await self._unbind(redis, session))
        except REDIS_ERRORS as exc:
            self.link.lost(redis, exc)
            return last_local

    async def _forget_own_entries(self, redis: Redis, everything: bool, direct: bool) -> None:
        """Drops this node's entries for devices it no longer holds: a previous life of the same
        node id, sessions that closed while Redis was away; at stop, all of them."""
        for user_id in await members(redis, sessions_key(self.node_id)):
            entries = [Entry.decode(raw) for raw in await redis.hvals(user_key(user_id))]
            gone = [e for e in entries if e.node_id == self.node_id and (everything or not self._holds(user_id, e))]
            rest: list[Entry] = []
            for entry in gone:
                rest = await self._unbind(redis, Session(user_id, entry.organization_id, entry.device_id))
            if gone and not await self._live(redis, rest):
                session = Session(user_id, gone[0].organization_id, gone[0].device_id)
                await self._report_offline(session, direct)

    def _holds(self, user_id: str, entry: Entry) -> bool:
        connection = self.registry.device(user_id, entry.device_id)
        return connection is not None and connection.session is not None

    async def _reap_peer(self, redis: Redis, node_id: str) -> None:
        """Removes the entries of a node whose liveness key expired; best effort, its users are
        reported offline once (by whichever node took the reap lock)."""
        log.warning("node %s stopped heartbeating; removing its sessions", node_id)
        try:
            for user_id in await members(redis, sessions_key(node_id)):
                entries = [Entry.decode(raw) for raw in (await redis.hvals(user_key(user_id)))]
                gone = [e for e in entries if e.node_id == node_id]
                org = gone[0].organization_id if gone else (entries[0].organization_id if entries else "")
                rest = await self.link.scripts["reap"](
                    keys=[user_key(user_id), org_key(org), sessions_key(node_id), node_key(node_id)],
                    args=[node_id, user_id], client=redis,
                )
                if rest is None:
                    return  # the node came back
                if gone and not await self._live(redis, [Entry.decode(raw) for raw in rest]):
                    await self._report_offline(Session(user_id, org, gone[0].device_id), direct=False)
            await redis.srem(NODES_KEY, node_id)
        except REDIS_ERRORS as exc:
            self.link.lost(redis, exc)

    # -- liveness ----------------------------------------------------------------------------------

    async def _entries(self, redis: Redis, user_ids: Iterable[str]) -> dict[str, list[Entry]]:
        users = list(dict.fromkeys(user_ids))
        pipe = redis.pipeline(transaction=False)
        for user_id in users:
            pipe.hvals(user_key(user_id))
        found = await pipe.execute() if users else []
        return {user_id: [Entry.decode(raw) for raw in values] for user_id, values in zip(users, found, strict=True)}

    async def _live(self, redis: Redis, entries: list[Entry]) -> list[Entry]:
        if not entries:
            return []
        live = await self.link.live_nodes(redis, {e.node_id for e in entries})
        return [e for e in entries if e.node_id in live]

    async def online_user_ids(self, user_ids: list[str]) -> set[str]:
        local = {user_id for user_id in user_ids if self.registry.is_online(user_id)}
        redis = self.link.client()
        rest = [user_id for user_id in user_ids if user_id not in local]
        if redis is None or not rest:
            return local
        try:
            async with self.link.bounded():
                entries = await self._entries(redis, rest)
                live = await self.link.live_nodes(redis, {e.node_id for found in entries.values() for e in found})
            return local | {u for u, found in entries.items() if any(e.node_id in live for e in found)}
        except REDIS_ERRORS as exc:
            self.link.lost(redis, exc)
            return local

    async def all_online_user_ids(self, organization_id: str) -> list[str]:
        local = list(dict.fromkeys(
            c.session.user_id for c in self.registry.all()
            if c.session is not None and c.session.organization_id == organization_id
        ))
        redis = self.link.client()
        if redis is None:
            return local
        try:
            async with self.link.bounded():
                candidates = [u for u in await members(redis, org_key(organization_id)) if u not in set(local)]
            remote = await self.online_user_ids(candidates) if candidates else set()
            return local + [user_id for user_id in candidates if user_id in remote]
        except REDIS_ERRORS as exc:
            self.link.lost(redis, exc)
            return local

    async def allow(self, user_id: str) -> bool:
        """A one-second window counted in Redis, so a user's devices on every node share it;
        while Redis is away each node counts on its own."""
        redis = self.link.client()
        if redis is None:
            return self.user_rate.allow(user_id)
        key = f"chat:rate:{user_id}:{int(time.time())}"
        try:
            async with self.link.bounded(), redis.pipeline(transaction=False) as pipe:
                pipe.incr(key)
                pipe.expire(key, 2)
                count, _ = await pipe.execute()
        except REDIS_ERRORS as exc:
            self.link.lost(redis, exc)
            return self.user_rate.allow(user_id)
        return int(count) <= self.user_rate.limit

    # -- delivery ----------------------------------------------------------------------------------

    async def publish(self, delivery: Delivery) -> set[str]:
        reached = self.deliver_local(delivery)
        recipients = set(delivery.user_ids)
        redis = self.link.client()
        if redis is None or not recipients:
            return recipients - reached
        try:
            async with self.link.bounded():
                reached |= await self._publish_remote(redis, delivery)
        except REDIS_ERRORS as exc:
            self.link.lost(redis, exc)
        return recipients - reached

    async def _publish_remote(self, redis: Redis, delivery: Delivery) -> set[str]:
        """Publishes to each other live node holding a device of a recipient; returns the users reached."""
        entries = await self._entries(redis, delivery.user_ids)
        remote = {e.node_id for found in entries.values() for e in found} - {self.node_id}
        live = await self.link.live_nodes(redis, remote) if remote else set()
        by_node: dict[str, set[str]] = {}
        for user_id, found in entries.items():
            for entry in found:
                if entry.node_id in live and entry.node_id != self.node_id:
                    by_node.setdefault(entry.node_id, set()).add(user_id)
        reached: set[str] = set()
        if by_node:
            targets = list(by_node.items())
            pipe = redis.pipeline(transaction=False)
            for node, user_ids in targets:
                body = {"k": "d", "u": sorted(user_ids), "p": delivery.packet, "s": delivery.skip_connection}
                pipe.publish(deliver_channel(node), orjson.dumps(body))
            # a node that is not listening (reconnecting) did not deliver: its users stay offline
            for (_, user_ids), listeners in zip(targets, await pipe.execute(), strict=True):
                if listeners:
                    reached |= user_ids
        return reached

    async def close_device(self, user_id: str, device_id: str, code: int, reason: str,
                           except_connection: str | None = None) -> None:
        self.close_local(user_id, device_id, code, reason, except_connection)
        redis = self.link.client()
        if redis is None:
            return
        try:
            async with self.link.bounded():
                entries = (await self._entries(redis, [user_id]))[user_id]
                nodes = {e.node_id for e in entries if e.device_id == device_id and e.node_id != self.node_id}
                body = {"k": "c", "u": user_id, "d": device_id, "c": code, "r": reason, "x": except_connection}
                for node in sorted(nodes):
                    await redis.publish(deliver_channel(node), orjson.dumps(body))
        except REDIS_ERRORS as exc:
            self.link.lost(redis, exc)

    def _on_message(self, channel: str, data: str) -> None:
        body = orjson.loads(data)
        kind = body.get("k")
        if channel == PRESENCE_CHANNEL:
            if body.get("n") == self.node_id:
                return
            if kind == "left":
                self.link.forget_peer(body["n"])
            elif kind == "p":
                session = Session(body["u"], body["o"], body["d"])
                self._presence.put_nowait((session, bool(body["on"]), int(body["t"]), False))
        elif kind == "d":
            self.write_local(body["u"], body["p"], body.get("s"))  # the packet its event built on the sending node
        elif kind == "c":
            self._close_for_peer(body["u"], body["d"], int(body["c"]), body["r"], body.get("x"))

    def _close_for_peer(self, user_id: str, device_id: str, code: int, reason: str, skip: str | None) -> None:
        connection = self.registry.device(user_id, device_id)
        if connection is None or connection.id == skip:
            return
        if code != CLOSE_REPLACED:
            self.close_local(user_id, device_id, code, reason, skip)
            return
        # the device lives on at another node: this socket leaves without reporting the user offline
        session = connection.session
        self.registry.unbind(connection)
        connection.session = None
        connection.close(code, reason)
        redis = self.link.client()
        if session is not None and redis is not None:
            self.link.spawn(self._quiet_unbind(redis, session))

    async def _quiet_unbind(self, redis: Redis, session: Session) -> None:
        try:
            async with self.link.bounded():
                await self._unbind(redis, session)
        except REDIS_ERRORS as exc:
            self.link.lost(redis, exc)

    # -- presence ----------------------------------------------------------------------------------

    async def announce_presence(self, session: Session, online: bool, seconds: int) -> None:
        redis = self.link.client()
        if redis is None:
            return
        body = {"k": "p", "n": self.node_id, "u": session.user_id, "o": session.organization_id,
                "d": session.device_id, "on": online, "t": seconds}
        try:
            async with self.link.bounded():
                await redis.publish(PRESENCE_CHANNEL, orjson.dumps(body))
        except REDIS_ERRORS as exc:
            self.link.lost(redis, exc)

    async def _report_offline(self, session: Session, direct: bool) -> None:
        """A user found offline by cleanup: told here (recording the activity) and to every node."""
        seconds = int(time.time())
        await self.announce_presence(session, False, seconds)
        if direct:
            await self._run_hook((session, False, seconds, True))
        else:
            self._presence.put_nowait((session, False, seconds, True))

    async def _presence_loop(self) -> None:
        while True:
            await self._run_hook(await self._presence.get())

    async def _run_hook(self, event: PresenceEvent) -> None:
        if self.on_presence is None:
            return
        try:
            await self.on_presence(*event)
        except Exception:
            log.exception("presence hook failed for %s", event[0].user_id)
