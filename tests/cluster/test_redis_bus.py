"""The Redis bus on its own: several buses in one process, each with its own registry and hub, on a
real redis-server. Sockets are stand-ins that record what they are sent."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from types import SimpleNamespace
from typing import Any

import pytest
from redis.asyncio import Redis

from handlers.base import Delivery, Session
from schemas.events import MessageEvent
from server.cluster.redis_bus import RedisBus
from server.config import Settings
from server.delivery.hub import Hub
from server.delivery.registry import Registry
from server.transport.connection import CLOSE_LOGGED_OUT, CLOSE_REPLACED
from tests.cluster.conftest import eventually
from tests.redis_server import RedisServer

ORG = "org-1"
TTL = 1.5


class Socket:
    """Stands in for a Connection: records packets and the close."""

    def __init__(self, user_id: str, device_id: str, organization_id: str = ORG) -> None:
        self.id = uuid.uuid4().hex
        self.session: Session | None = Session(user_id, organization_id, device_id)
        self.sent: list[dict[str, Any]] = []
        self.closed: tuple[int, str] | None = None

    def send(self, packet: dict[str, Any]) -> None:
        self.sent.append(packet)

    def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)


class Activity:
    """The user repository part the hub writes presence to."""

    def __init__(self) -> None:
        self.recorded: list[tuple[str, int]] = []

    async def set_recent_activity(self, organization_id: str, user_id: str, seconds: int) -> None:
        self.recorded.append((user_id, seconds))


class Node:
    """One server node as the bus sees it: registry, bus, hub, and what its presence listeners hear."""

    def __init__(self, redis_url: str, node_id: str, ttl: float = TTL) -> None:
        self.node_id = node_id
        self.registry = Registry()
        settings = Settings(redis_url=redis_url, node_id=node_id, cluster_node_ttl=ttl)
        self.bus = RedisBus(settings, self.registry)
        self.activity = Activity()
        self.hub = Hub(self.bus, SimpleNamespace(users=self.activity))  # type: ignore[arg-type]
        self.presence: list[tuple[str, bool]] = []
        self.hub.presence_listeners.append(self)

    async def presence_changed(self, session: Session, online: bool, seconds: int) -> None:
        self.presence.append((session.user_id, online))

    async def connect(self, user_id: str, device_id: str) -> Socket:
        """What dispatch does on `connect`: bind, close the device elsewhere, report presence."""
        socket = Socket(user_id, device_id)
        self.registry.add(socket)  # type: ignore[arg-type]
        self.registry.bind(socket)  # type: ignore[arg-type]
        await self.bus.close_device(user_id, device_id, CLOSE_REPLACED, "Replaced", except_connection=socket.id)
        await self.hub.connected(socket)  # type: ignore[arg-type]
        return socket

    async def disconnect(self, socket: Socket) -> None:
        last_local = self.registry.remove(socket)  # type: ignore[arg-type]
        await self.hub.disconnected(socket, last_local)  # type: ignore[arg-type]

    async def crash(self) -> None:
        """Stops as a killed process would: no goodbye, its keys stay until they expire."""
        link = self.bus.link
        assert link._supervisor is not None
        link._supervisor.cancel()
        if self.bus._presence_worker is not None:
            self.bus._presence_worker.cancel()
        await link._disconnect()


@pytest.fixture
async def cluster(redis_url: str) -> AsyncIterator[Callable[..., Any]]:
    nodes: list[Node] = []

    async def start(node_id: str, ttl: float = TTL) -> Node:
        node = Node(redis_url, node_id, ttl)
        await node.bus.start()
        assert node.bus.healthy
        nodes.append(node)
        return node

    try:
        yield start
    finally:
        for node in nodes:
            await node.bus.stop()


def message(text: str) -> MessageEvent:
    return MessageEvent(id=uuid.uuid4().hex, cid="c", from_id="alice", t=0, body=text,
                        created_at="2026-01-01T00:00:00.000Z", updated_at="2026-01-01T00:00:00.000Z")


def bodies(socket: Socket) -> list[str]:
    return [packet["message"]["body"] for packet in socket.sent if "message" in packet]


async def test_delivery_reaches_every_device_on_every_node_exactly_once(cluster: Any) -> None:
    a, b, c = await cluster("a"), await cluster("b"), await cluster("c")
    sender = await a.connect("alice", "phone")
    alice_tablet = await a.connect("alice", "tablet")
    alice_laptop = await c.connect("alice", "laptop")
    bob = await b.connect("bob", "phone")
    bob_web = await c.connect("bob", "web")

    offline = await a.bus.publish(Delivery(("alice", "bob", "carol"), message("hi"), skip_connection=sender.id))
    await a.bus.publish(Delivery(("alice", "bob"), message("second"), skip_connection=sender.id))

    assert offline == {"carol"}
    for socket in (alice_tablet, alice_laptop, bob, bob_web):
        await eventually(lambda s=socket: len(s.sent) >= 2, "both messages")  # type: ignore[misc]
        assert bodies(socket) == ["hi", "second"]
    assert sender.sent == []


async def test_presence_fires_on_every_node_for_first_and_last_device(cluster: Any) -> None:
    a, b = await cluster("a"), await cluster("b")

    phone = await a.connect("alice", "phone")
    await eventually(lambda: b.presence == [("alice", True)], "online seen on b")
    laptop = await b.connect("alice", "laptop")
    await a.disconnect(phone)
    assert await b.bus.online_user_ids(["alice"]) == {"alice"}
    await b.disconnect(laptop)
    await eventually(lambda: a.presence == [("alice", True), ("alice", False)], "offline seen on a")

    assert b.presence == [("alice", True), ("alice", False)]
    assert [user for user, _ in a.activity.recorded] == ["alice"]  # each change recorded once, where it happened
    assert [user for user, _ in b.activity.recorded] == ["alice"]
    assert await a.bus.online_user_ids(["alice"]) == set()


async def test_online_users_are_counted_across_nodes(cluster: Any) -> None:
    a, b = await cluster("a"), await cluster("b")
    await a.connect("alice", "phone")
    await b.connect("bob", "phone")
    await b.connect("alice", "laptop")
    other_org = Socket("zed", "phone", organization_id="org-2")
    b.registry.add(other_org)  # type: ignore[arg-type]
    b.registry.bind(other_org)  # type: ignore[arg-type]
    await b.hub.connected(other_org)  # type: ignore[arg-type]

    assert await a.bus.online_user_ids(["alice", "bob", "carol", "zed"]) == {"alice", "bob", "zed"}
    assert sorted(await a.bus.all_online_user_ids(ORG)) == ["alice", "bob"]
    assert await a.bus.all_online_user_ids("org-2") == ["zed"]


async def test_logout_closes_the_device_on_the_node_holding_it(cluster: Any) -> None:
    a, b = await cluster("a"), await cluster("b")
    phone = await b.connect("alice", "phone")

    await a.bus.close_device("alice", "phone", CLOSE_LOGGED_OUT, "Logged out")

    await eventually(lambda: phone.closed is not None, "the socket on b closed")
    assert phone.closed == (CLOSE_LOGGED_OUT, "Logged out")
    assert b.registry.device("alice", "phone") is None


async def test_connect_from_same_device_on_another_node_replaces_the_old_socket(cluster: Any) -> None:
    a, b = await cluster("a"), await cluster("b")
    old = await b.connect("alice", "phone")
    await eventually(lambda: a.presence == [("alice", True)], "online seen on a")

    new = await a.connect("alice", "phone")

    await eventually(lambda: old.closed is not None, "the old socket closed")
    assert old.closed is not None and old.closed[0] == CLOSE_REPLACED
    assert b.registry.device("alice", "phone") is None
    await b.disconnect(old)  # its socket task ends; that must not report alice offline
    await eventually(lambda: a.registry.device("alice", "phone") is new, "new socket bound")
    assert await b.bus.online_user_ids(["alice"]) == {"alice"}
    await a.bus.publish(Delivery(("alice",), message("to the new socket")))
    assert bodies(new) == ["to the new socket"]
    assert ("alice", False) not in a.presence + b.presence


async def test_clean_stop_removes_the_node_sessions_at_once(cluster: Any) -> None:
    a, b = await cluster("a"), await cluster("b")
    await b.connect("bob", "phone")
    assert await a.bus.online_user_ids(["bob"]) == {"bob"}

    await b.bus.stop()

    assert await a.bus.online_user_ids(["bob"]) == set()
    assert await a.bus.publish(Delivery(("bob",), message("gone"))) == {"bob"}
    await eventually(lambda: ("bob", False) in a.presence, "offline seen on a")


async def test_killed_node_stops_counting_when_its_heartbeat_expires(cluster: Any) -> None:
    a, b = await cluster("a"), await cluster("b")
    await b.connect("bob", "phone")
    alice = await a.connect("alice", "phone")
    assert await a.bus.online_user_ids(["bob"]) == {"bob"}

    await b.crash()
    # nobody listens on b's channel any more: a delivery to bob is reported offline at once
    assert await a.bus.publish(Delivery(("bob",), message("unheard"))) == {"bob"}

    await eventually(lambda: _offline(a, "bob"), "bob offline after b's TTL", timeout=TTL + 5)
    assert await a.bus.publish(Delivery(("alice", "bob"), message("still here"))) == {"bob"}
    assert bodies(alice) == ["still here"]
    await eventually(lambda: ("bob", False) in a.presence, "a reaped b and reported bob offline", timeout=TTL + 5)
    assert ("bob", [s for s, _ in a.activity.recorded].count("bob")) == ("bob", 1)


async def _offline(node: Node, user_id: str) -> bool:
    return await node.bus.online_user_ids([user_id]) == set()


async def test_restarted_node_with_the_same_id_drops_its_stale_sessions(cluster: Any, redis_url: str) -> None:
    a = await cluster("a", ttl=30)
    first_life = await cluster("b", ttl=30)
    await first_life.connect("bob", "phone")
    await first_life.crash()
    assert await a.bus.online_user_ids(["bob"]) == {"bob"}  # its key has not expired yet

    await cluster("b", ttl=30)

    assert await a.bus.online_user_ids(["bob"]) == set()


async def test_nodes_register_again_when_redis_loses_their_keys(cluster: Any, redis_url: str) -> None:
    a, b = await cluster("a"), await cluster("b")
    bob = await b.connect("bob", "phone")
    client = Redis.from_url(redis_url)
    try:
        await client.flushall()  # as a Redis restarted without persistence, faster than the clients notice
    finally:
        await client.aclose()

    await eventually(lambda: _online(a, "bob"), "b registered bob again at its next heartbeat")
    await a.bus.publish(Delivery(("bob",), message("found again")))
    await eventually(lambda: bodies(bob) == ["found again"], "delivery to b")


async def _online(node: Node, user_id: str) -> bool:
    return await node.bus.online_user_ids([user_id]) == {user_id}


async def test_redis_outage_keeps_local_delivery_and_recovers(cluster: Any, redis_server: RedisServer) -> None:
    a, b = await cluster("a"), await cluster("b")
    alice = await a.connect("alice", "phone")
    ann = await a.connect("ann", "phone")
    bob = await b.connect("bob", "phone")

    redis_server.stop()
    offline = await a.bus.publish(Delivery(("ann", "bob"), message("during the outage"), skip_connection=alice.id))
    assert offline == {"bob"}  # reported offline: the offline sinks keep a copy
    assert bodies(ann) == ["during the outage"]
    assert not a.bus.healthy
    carol = await b.connect("carol", "phone")  # binds while Redis is away: registered on return
    await b.disconnect(bob)  # and bob leaves while it is away
    assert await a.bus.online_user_ids(["alice", "carol"]) == {"alice"}

    redis_server.start()
    await asyncio.wait_for(asyncio.gather(a.bus.link.joined.wait(), b.bus.link.joined.wait()), 15)

    assert await a.bus.online_user_ids(["alice", "ann", "bob", "carol"]) == {"alice", "ann", "carol"}
    assert await a.bus.publish(Delivery(("carol", "bob"), message("after"))) == {"bob"}
    await eventually(lambda: bodies(carol) == ["after"], "cross-node delivery after the outage")


async def test_node_starts_alone_when_redis_is_down_and_joins_later(
    redis_url: str, redis_server: RedisServer
) -> None:
    redis_server.stop()
    node = Node(redis_url, "late", ttl=TTL)
    await node.bus.start()
    try:
        assert not node.bus.healthy
        alice = await node.connect("alice", "phone")
        assert await node.bus.publish(Delivery(("alice",), message("alone"))) == set()
        assert bodies(alice) == ["alone"]

        redis_server.start()
        await asyncio.wait_for(node.bus.link.joined.wait(), 15)
        peer = Node(redis_url, "peer", ttl=TTL)
        await peer.bus.start()
        try:
            assert await peer.bus.online_user_ids(["alice"]) == {"alice"}
        finally:
            await peer.bus.stop()
    finally:
        await node.bus.stop()
