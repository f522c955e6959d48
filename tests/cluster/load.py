"""Steady message traffic across the nodes of a cluster while faults are injected, and the audit
afterwards: shared by tests/cluster/test_cluster_faults.py and scripts/faults.py.

Each sender has a private conversation with a receiver on another node and sends at a modest
rate, one message in flight at a time; every `ask` it gets is an acknowledged message, which must
be in the conversation's history afterwards whatever failed meanwhile. A sender whose node is
killed loses its socket (that is expected and counted as `dropped`); every other socket must keep
working.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis
from websockets.exceptions import ConnectionClosed

from server.cluster.keys import deliver_channel, node_key
from tests.client import ChatClient, ServerInfo

ASK_TIMEOUT = 10.0  # seconds a sender waits for one `ask` before counting the message unacked
HISTORY_PAGE = 25  # ids per message_list (a page holds at most MESSAGE_PRELOAD_COUNT, 30)
RATE_LIMITED_RETRIES = 50


@dataclass
class Sender:
    name: str
    client: ChatClient
    node: int  # index of the node its socket is on
    cid: str
    checker: ChatClient  # the receiver, on another node: reads the history afterwards
    acked: dict[str, str] = field(default_factory=dict)  # client id -> server_mid
    latencies: list[tuple[float, float]] = field(default_factory=list)  # (sent at, seconds to its ask)
    sent: int = 0
    unacked: int = 0  # sent, but no ask within ASK_TIMEOUT (not acknowledged, so not owed)
    dropped: str | None = None  # why its socket went away

    async def send_one(self) -> None:
        mid = uuid.uuid4().hex
        started = time.monotonic()
        self.sent += 1
        await self.client.send({"message": {"id": mid, "cid": self.cid, "body": f"{self.name} {self.sent}"}})
        try:
            ask = await self.client.wait_for(lambda p: p.get("ask", {}).get("mid") == mid, timeout=ASK_TIMEOUT)
        except TimeoutError:
            self.unacked += 1
            return
        self.latencies.append((started, time.monotonic() - started))
        self.acked[mid] = ask["ask"]["server_mid"]


@dataclass
class Traffic:
    """The senders of one run and the loop that keeps them sending until `stop()`."""

    senders: list[Sender]
    interval: float  # seconds between two sends of one sender
    stopped: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    progress: asyncio.Condition = field(default_factory=asyncio.Condition)

    @property
    def acked(self) -> int:
        return sum(len(s.acked) for s in self.senders)

    def start(self) -> None:
        self.tasks = [asyncio.create_task(self._run(sender)) for sender in self.senders]

    async def _run(self, sender: Sender) -> None:
        while not self.stopped.is_set():
            try:
                await sender.send_one()
            except (ConnectionError, ConnectionClosed) as exc:  # its node is gone
                sender.dropped = str(exc)[:200]
            async with self.progress:
                self.progress.notify_all()
            if sender.dropped:
                return
            try:  # pacing: a modest, steady rate (the stop event ends the pause early)
                await asyncio.wait_for(self.stopped.wait(), self.interval)
            except TimeoutError:
                pass

    async def until_acked(self, more: int, timeout: float = 30.0) -> None:
        """Waits until `more` further messages have been acknowledged (by all senders together)."""
        target = self.acked + more

        async def reached() -> None:
            async with self.progress:
                await self.progress.wait_for(lambda: self.acked >= target or all(t.done() for t in self.tasks))

        await asyncio.wait_for(reached(), timeout)
        if self.acked < target:
            raise AssertionError(f"every sender stopped before {target} acks: {self.summary()}")

    async def stop(self) -> None:
        self.stopped.set()
        await asyncio.gather(*self.tasks)

    def summary(self) -> str:
        return ", ".join(f"{s.name}@{s.node}: sent {s.sent} acked {len(s.acked)} dropped {bool(s.dropped)}"
                         for s in self.senders)


async def start_senders(nodes: list[ServerInfo], count: int, login: Callable[[str], str],
                        node_of: Callable[[int], int], checker_node_of: Callable[[int], int]) -> list[Sender]:
    """`count` senders, sender i on node `node_of(i)`, each in a private conversation with a
    receiver on node `checker_node_of(i)`."""
    senders = []
    for index in range(count):
        on, reader_on = node_of(index), checker_node_of(index)
        client = await nodes[on].user(login(f"sender{index}"))
        receiver = await nodes[reader_on].user(login(f"receiver{index}"))
        assert receiver.user is not None
        cid = (await client.request("conversation_create", {
            "type": "u", "participants": [receiver.user["_id"]]}))["conversation"]["_id"]
        senders.append(Sender(f"sender{index}", client, on, cid, receiver))
    return senders


async def lost_messages(senders: list[Sender]) -> list[str]:
    """Acknowledged messages missing from their conversation's history, read by the receiver."""
    lost: list[str] = []
    for sender in senders:
        server_mids = list(sender.acked.values())
        for start in range(0, len(server_mids), HISTORY_PAGE):
            chunk = server_mids[start:start + HISTORY_PAGE]
            body = await history(sender.checker, sender.cid, chunk)
            found = {m["_id"] for m in body["messages"]}
            lost += [f"{sender.name}: {mid}" for mid in chunk if mid not in found]
    return lost


async def history(client: ChatClient, cid: str, server_mids: list[str]) -> dict[str, Any]:
    """`message_list` of those ids; a 429 (the audit outruns the per-user rate limit) is retried."""
    for _ in range(RATE_LIMITED_RETRIES):
        body = await client.request("message_list", {"cid": cid, "ids": server_mids}, ok=False)
        if body.get("error", {}).get("status") != 429:
            break
        await asyncio.sleep(0.2)  # back-off: the limit is per second
    if "error" in body:
        raise AssertionError(f"message_list failed: {body['error']}")
    return body


async def still_working(client: ChatClient) -> bool:
    """The socket answers a ping and a request that needs its session."""
    try:
        await client.settle()
        return "error" not in await client.request("list_blocked_users", ok=False)
    except (ConnectionError, ConnectionClosed, TimeoutError):
        return False


async def nodes_registered(redis_url: str, node_ids: list[str]) -> bool:
    """Each node is alive in Redis again and listening on its delivery channel."""
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        alive = [await client.exists(node_key(node)) for node in node_ids]
        listening = await client.pubsub_numsub(*(deliver_channel(node) for node in node_ids))
        return all(alive) and all(count == 1 for _, count in listening)
    except (aioredis.ConnectionError, OSError):
        return False
    finally:
        await client.aclose()


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]
