"""A cluster losing a node, then losing Redis: nobody else goes down, no acknowledged message is lost.

The last test does both under steady traffic (tests/cluster/load.py); `scripts/faults.py --long`
runs the same scenario for minutes with more senders and prints its figures.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import redis.asyncio as aioredis

from server.cluster.keys import deliver_channel, node_key, user_key
from tests.chat_helpers import conversation, send, unique_login
from tests.client import ServerInfo
from tests.cluster.conftest import Observer, eventually, running_cluster
from tests.cluster.load import Traffic, lost_messages, nodes_registered, start_senders, still_working
from tests.cluster.nodes import NODE_TTL, READY_DEADLINE, Cluster
from tests.cluster.test_cluster_delivery import messages


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    # One cluster per module: the first test kills node c, the second uses a and b, the last restarts c.
    with running_cluster(tmp_path_factory, 3) as running:
        yield running


async def test_killed_node_users_go_offline_and_the_others_keep_chatting(
    cluster: Cluster, nodes: list[ServerInfo], observer: Observer
) -> None:
    a, b, c = nodes
    alice = await a.user(unique_login("alice"))
    bob = await b.user(unique_login("bob"))
    dave = await c.user(unique_login("dave"))
    assert dave.user is not None
    dave_id = dave.user["_id"]
    cid = await conversation(alice, bob, dave, name="before the crash")
    await send(alice, cid, "everyone here")
    await dave.event("message", body="everyone here")
    assert await observer.online(dave_id) == {dave_id}

    killed_at = time.monotonic()
    cluster.nodes[2].kill()

    still_counted = await observer.online(dave_id)
    if time.monotonic() - killed_at < NODE_TTL / 2:  # a very slow machine may already be past the TTL
        assert still_counted == {dave_id}  # what takes dave offline is c's heartbeat expiring
    await eventually(lambda: _offline(observer, dave_id), "dave offline once c's TTL expired", timeout=NODE_TTL + 10)
    await eventually(lambda: (dave_id, False) in observer.heard, "a surviving node reported dave offline",
                     timeout=NODE_TTL + 10)
    ask = await send(alice, cid, "after the crash")
    assert ask["server_mid"]
    await bob.event("message", body="after the crash")
    await send(bob, cid, "and back")
    await alice.event("message", body="and back")


async def _offline(observer: Observer, user_id: str) -> bool:
    return await observer.online(user_id) == set()


async def test_redis_outage_keeps_nodes_serving_and_delivery_recovers(
    cluster: Cluster, nodes: list[ServerInfo]
) -> None:
    a, b, _ = nodes
    redis_server = cluster.redis_server
    assert redis_server is not None
    alice = await a.user(unique_login("alice"))
    ann = await a.user(unique_login("ann"))
    bob = await b.user(unique_login("bob"))
    assert bob.user is not None
    with_ann = await conversation(alice, ann)
    with_bob = await conversation(alice, bob)
    await send(alice, with_bob, "before the outage")
    await bob.event("message", body="before the outage")

    redis_server.stop()
    await send(alice, with_ann, "same node, no redis")
    await ann.event("message", body="same node, no redis")
    stored = await send(alice, with_bob, "other node, no redis")  # acknowledged, so stored
    assert stored["server_mid"]
    await alice.settle()  # the socket's packets run in order: its deliveries are done, without redis

    redis_server.start()
    await eventually(lambda: _rejoined(cluster, [n.node_id for n in cluster.nodes[:2]], bob.user["_id"]),
                     "both nodes registered again in the restarted redis", timeout=20)
    await send(alice, with_bob, "after the outage")
    await bob.event("message", body="after the outage")
    history = await bob.request("message_list", {"cid": with_bob})
    assert [m["_id"] for m in history["messages"]].count(stored["server_mid"]) == 1
    assert messages(await bob.settle()) == []  # the outage message was not delivered late, nor twice


async def _rejoined(cluster: Cluster, node_ids: list[str], user_id: str) -> bool:
    client = aioredis.Redis.from_url(cluster.redis_url, decode_responses=True)
    try:
        alive = [await client.exists(node_key(node)) for node in node_ids]
        listening = await client.pubsub_numsub(*(deliver_channel(node) for node in node_ids))
        return all(alive) and all(count == 1 for _, count in listening) and bool(await client.hlen(user_key(user_id)))
    except (aioredis.ConnectionError, OSError):
        return False
    finally:
        await client.aclose()


SENDERS = 4  # sender i on node i % 3: one of them on the node that is killed
SEND_INTERVAL = 0.1  # seconds between two messages of one sender: 40 messages/s in all
ACKS_PER_PHASE = 20


async def test_under_load_a_killed_node_and_a_redis_restart_lose_no_acknowledged_message(
    cluster: Cluster, nodes: list[ServerInfo]
) -> None:
    """Senders on all three nodes, each in a private chat with a receiver on a node that survives;
    mid-traffic node c is SIGKILLed, then Redis is stopped and started again. Every message that got
    its `ask` is in the history afterwards, and every socket not on node c kept working."""
    victim, redis_server = cluster.nodes[2], cluster.redis_server
    assert redis_server is not None
    redis_server.start()  # no-op when running
    if victim.process is None or victim.process.poll() is not None:  # killed by the first test
        victim.start()
        victim.wait_ready(time.monotonic() + READY_DEADLINE)
    senders = await start_senders(nodes, SENDERS, unique_login, node_of=lambda i: i % 3,
                                  checker_node_of=lambda i: 1 if i % 3 == 0 else 0)
    traffic = Traffic(senders, SEND_INTERVAL)
    traffic.start()
    try:
        await traffic.until_acked(ACKS_PER_PHASE)
        victim.kill()
        await traffic.until_acked(ACKS_PER_PHASE)  # the survivors keep being acknowledged
        redis_server.stop()
        await traffic.until_acked(ACKS_PER_PHASE)  # ... without Redis
        redis_server.start()
        await eventually(lambda: nodes_registered(cluster.redis_url, [n.node_id for n in cluster.nodes[:2]]),
                         "nodes a and b registered again in the restarted redis", timeout=20)
        await traffic.until_acked(ACKS_PER_PHASE)
    finally:
        await traffic.stop()
    on_victim = [s for s in senders if s.node == 2]
    survivors = [s for s in senders if s.node != 2]
    assert all(s.dropped for s in on_victim), traffic.summary()
    assert [s.name for s in survivors if s.dropped] == [], traffic.summary()
    assert await lost_messages(senders) == []
    for sender in survivors:
        assert await still_working(sender.client) and await still_working(sender.checker), sender.name
        await sender.send_one()
        assert sender.unacked == 0, traffic.summary()
    for sender in on_victim:  # their receivers were on a or b
        assert await still_working(sender.checker), sender.name
