"""A frozen Redis (SIGSTOP: connections stay open, nothing answers) stalls no node.

Three users on two nodes keep sending to a group whose fourth member is offline with a web push
subscription, so every message queues a push. While Redis is frozen every send is acknowledged
promptly and every socket keeps answering; once Redis runs again (SIGCONT) the nodes deliver to each
other again, every acknowledged message is stored and every queued push reaches the push service.
Latency figures (p50/p99 during a freeze) are printed by scripts/bench/redis_freeze.py.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.chat_helpers import uid, unique_login
from tests.client import ChatClient, ServerInfo
from tests.cluster.conftest import eventually, running_cluster
from tests.cluster.nodes import Cluster
from tests.cluster.test_cluster_failures import _rejoined
from tests.e2e.push_helpers import Browser, StandInPushService, go_offline, running_push_service, subscribe
from tests.redis_server import RedisServer

FREEZE = 3.0  # seconds Redis stays stopped: longer than REDIS_BREAKER_COOLDOWN, so a probe happens too
ACK_BOUND = 1.0  # liveness bound per ack while Redis is frozen (the benchmark measures the real figure)
PACE = 0.05  # a client's sending rhythm between two messages, not a wait for anything
PUSH_DEADLINE = 30.0


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    # the stand-in push service listens on 127.0.0.1
    with running_cluster(tmp_path_factory, 2, env={"PUSH_ALLOW_PRIVATE_ENDPOINTS": "1"}) as running:
        yield running


@pytest.fixture
async def push_service() -> AsyncIterator[StandInPushService]:
    async with running_push_service() as service:
        yield service


@contextmanager
def frozen(redis_server: RedisServer) -> Iterator[None]:
    assert redis_server.process is not None
    pid = redis_server.process.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


async def send_acked(client: ChatClient, cid: str, body: str, within: float = 10.0) -> dict[str, Any]:
    mid = uuid.uuid4().hex
    started = time.monotonic()
    await client.send({"message": {"id": mid, "cid": cid, "body": body}})
    try:
        return await client.event("ask", timeout=within, mid=mid)
    except TimeoutError:
        raise AssertionError(f"{body!r} not acknowledged within {within}s "
                             f"({time.monotonic() - started:.1f}s so far)") from None


async def keep_sending(client: ChatClient, cid: str, prefix: str, until: float) -> dict[str, str]:
    """Sends until `until`, each message acknowledged within ACK_BOUND; body -> server_mid."""
    acked: dict[str, str] = {}
    while time.monotonic() < until:
        body = f"{prefix} {len(acked)}"
        acked[body] = (await send_acked(client, cid, body, within=ACK_BOUND))["server_mid"]
        await asyncio.sleep(PACE)
    return acked


async def answers_ping(client: ChatClient) -> None:
    body = await client.request("ping")
    assert body.get("pong") == {}


async def pushed_bodies(push_service: StandInPushService, browser: Browser, wanted: set[str]) -> set[str]:
    """Reads the push service's requests until every wanted body arrived (a body may come twice)."""
    seen: set[str] = set()
    deadline = time.monotonic() + PUSH_DEADLINE
    while not wanted <= seen:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"pushes never handed out: {sorted(wanted - seen)[:10]}")
        request = await push_service.next_request(timeout=remaining)
        if request.name == browser.name:
            seen.add(str(browser.decrypt(request)["body"]))
    return seen


async def stored_ids(client: ChatClient, cid: str, ids: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(ids), 20):  # within the server's page size
        page = await client.request("message_list", {"cid": cid, "ids": ids[start:start + 20]})
        found |= {str(m["_id"]) for m in page["messages"]}
    return found


async def test_frozen_redis_delays_no_ack_and_everything_catches_up(
    cluster: Cluster, nodes: list[ServerInfo], push_service: StandInPushService
) -> None:
    a, b = nodes
    redis_server = cluster.redis_server
    assert redis_server is not None
    alice = await a.user(unique_login("alice"))
    ann = await a.user(unique_login("ann"))
    bob = await b.user(unique_login("bob"))
    carol = await b.user(unique_login("carol"))
    browser = await subscribe(carol, push_service, unique_login("carol-browser"))
    cid = str((await alice.request("conversation_create", {
        "type": "g", "name": "freeze", "participants": [uid(ann), uid(bob), uid(carol)],
    }))["conversation"]["_id"])
    await go_offline(carol)
    await send_acked(alice, cid, "before the freeze")
    await bob.event("message", body="before the freeze")
    await pushed_bodies(push_service, browser, {"before the freeze"})  # through the Redis stream

    with frozen(redis_server):
        until = time.monotonic() + FREEZE
        from_alice, from_ann, from_bob = await asyncio.gather(  # two senders on node a, one on b
            keep_sending(alice, cid, "alice frozen", until), keep_sending(ann, cid, "ann frozen", until),
            keep_sending(bob, cid, "bob frozen", until))
        for client in (alice, ann, bob):  # no socket was dropped, each still answers at once
            await asyncio.wait_for(answers_ping(client), ACK_BOUND)
        for body in from_alice:  # a node's own sockets are served without Redis
            await ann.event("message", timeout=ACK_BOUND, body=body)
        for body in from_ann:
            await alice.event("message", timeout=ACK_BOUND, body=body)

    await eventually(lambda: _rejoined(cluster, [n.node_id for n in cluster.nodes], uid(bob)),
                     "both nodes registered again once redis runs", timeout=20)
    await send_acked(alice, cid, "after the freeze")
    await bob.event("message", body="after the freeze")
    await send_acked(bob, cid, "and back")
    await alice.event("message", body="and back")

    acked = {**from_alice, **from_ann, **from_bob}
    assert min(len(from_alice), len(from_ann), len(from_bob)) > 1
    assert await stored_ids(bob, cid, list(acked.values())) == set(acked.values())
    await pushed_bodies(push_service, browser, {*acked, "after the freeze", "and back"})
    for client in (alice, ann, bob):
        await answers_ping(client)
