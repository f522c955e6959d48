"""Idempotent sends across nodes: one client id sent through two `run.py` processes (one shared
database, one Redis) stores and delivers one message."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.chat_helpers import unique_login
from tests.client import ChatClient, ServerInfo
from tests.cluster.conftest import running_cluster
from tests.cluster.nodes import Cluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with running_cluster(tmp_path_factory, 2) as running:
        yield running


async def ask_of(client: ChatClient, cid: str, mid: str, body: str) -> dict[str, Any]:
    await client.send({"message": {"id": mid, "cid": cid, "body": body}})
    return await client.event("ask", mid=mid)


def message_ids(packets: list[dict[str, Any]]) -> list[str]:
    return [packet["message"]["_id"] for packet in packets if "_id" in packet.get("message", {})]


async def test_one_client_id_sent_to_two_nodes_stores_one_message(nodes: list[ServerInfo]) -> None:
    a, b = nodes
    phone = await a.user(unique_login("alice"))
    assert phone.user is not None
    laptop = await b.login(phone.user["login"])
    bob = await b.user(unique_login("bob"))
    assert bob.user is not None
    created = await phone.request("conversation_create", {"type": "u", "participants": [bob.user["_id"]]})
    cid = created["conversation"]["_id"]
    await bob.event("system_message", cid=cid)
    await laptop.event("system_message", cid=cid)
    mid = uuid.uuid4().hex

    asks = await asyncio.gather(ask_of(phone, cid, mid, "from node a"), ask_of(laptop, cid, mid, "from node b"))

    assert asks[0] == asks[1]
    server_mid = asks[0]["server_mid"]
    await bob.event("message", _id=server_mid)
    assert message_ids(await bob.settle()) == []
    listed = (await bob.request("message_list", {"cid": cid}))["messages"]
    assert [m["_id"] for m in listed] == [server_mid]
    # later resends through either node get the same ask, and still deliver nothing
    assert await ask_of(laptop, cid, mid, "retry on b") == asks[0]
    assert await ask_of(phone, cid, mid, "retry on a") == asks[0]
    assert message_ids(await bob.settle()) == []
