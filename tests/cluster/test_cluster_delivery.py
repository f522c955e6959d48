"""Three `run.py` processes behind one Redis and one database behave, to their clients, as one
server: every delivery rule holds whichever node each device is connected to."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from tests.chat_helpers import conversation, send, unique_login
from tests.client import ChatClient, ServerInfo
from tests.cluster.conftest import Observer, eventually, running_cluster
from tests.cluster.nodes import Cluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with running_cluster(tmp_path_factory, 3) as running:
        yield running


def messages(packets: list[dict[str, Any]]) -> list[str]:
    return [packet["message"]["body"] for packet in packets if "message" in packet]


async def closed_with(client: ChatClient) -> int | None:
    await asyncio.wait_for(client.ws.wait_closed(), 10)
    return client.ws.close_code


async def test_message_reaches_recipient_and_sender_devices_on_other_nodes_once(nodes: list[ServerInfo]) -> None:
    a, b, c = nodes
    alice = await a.user(unique_login("alice"))
    assert alice.user is not None
    alice_laptop = await c.login(alice.user["login"])
    bob = await b.user(unique_login("bob"))
    cid = await conversation(alice, bob)
    await bob.event("system_message", cid=cid)  # conversation_created crossed nodes too
    await alice_laptop.event("system_message", cid=cid)

    ask = await send(alice, cid, "hello across nodes")
    await send(alice, cid, "second")

    for device in (bob, alice_laptop):
        first = await device.event("message", body="hello across nodes")
        assert first["_id"] == ask["server_mid"] and first["from"] == alice.user["_id"]
        await device.event("message", body="second")
        assert messages(await device.settle()) == []  # nothing arrived twice
    assert messages(await alice.settle()) == []  # the sending socket gets the ask only


async def test_typing_edit_read_delete_and_conversation_events_cross_nodes(nodes: list[ServerInfo]) -> None:
    a, b, c = nodes
    alice = await a.user(unique_login("alice"))
    bob = await b.user(unique_login("bob"))
    carol = await c.user(unique_login("carol"))
    assert alice.user is not None and bob.user is not None
    cid = await conversation(alice, bob, carol, name="three nodes")
    await bob.event("system_message", cid=cid)
    await carol.event("system_message", cid=cid)
    ask = await send(alice, cid, "draft")
    await bob.event("message", body="draft")
    await carol.event("message", body="draft")

    await bob.send({"typing": {"cid": cid, "status": "start"}})
    assert (await alice.event("typing", cid=cid))["from"] == bob.user["_id"]
    assert (await carol.event("typing", cid=cid))["status"] == "start"

    await alice.request("message_edit", {"id": ask["server_mid"], "cid": cid, "body": "final"})
    assert (await bob.event("message_edit", id=ask["server_mid"]))["body"] == "final"
    await carol.event("message_edit", id=ask["server_mid"])

    await bob.request("message_read", {"cid": cid, "ids": [ask["server_mid"]]})
    read = await alice.event("message_read", cid=cid)
    assert read["ids"] == [ask["server_mid"]] and read["from"] == bob.user["_id"]

    await alice.request("message_delete", {"cid": cid, "ids": [ask["server_mid"]], "type": "all"})
    assert (await bob.event("message_delete", cid=cid))["ids"] == [ask["server_mid"]]
    await carol.event("message_delete", cid=cid)

    await bob.request("conversation_update", {"id": cid, "name": "renamed"})
    updated = await carol.event("system_message", cid=cid)
    assert updated["x"]["conversation_updated"]["name"] == "renamed"
    await alice.event("system_message", cid=cid)


async def test_connect_from_the_same_device_on_another_node_closes_the_old_socket(nodes: list[ServerInfo]) -> None:
    a, b, _ = nodes
    carol = await a.user(unique_login("carol"))
    dave = await a.user(unique_login("dave"))
    assert carol.user is not None and carol.device_id is not None
    cid = await conversation(dave, carol)

    carol_again = await b.login(carol.user["login"], device_id=carol.device_id)

    assert await closed_with(carol) == 4001
    await send(dave, cid, "to the new socket")
    await carol_again.event("message", body="to the new socket")


async def test_logout_on_one_node_closes_the_device_on_another(nodes: list[ServerInfo]) -> None:
    a, b, _ = nodes
    erin = await b.user(unique_login("erin"))

    status, body, _ = await a.http("POST", "/logout", headers={"Authorization": f"Bearer {erin.token}"})

    assert (status, body) == (200, {"success": True})
    assert await closed_with(erin) == 4002


async def test_presence_is_cluster_wide(nodes: list[ServerInfo], observer: Observer) -> None:
    a, b, _ = nodes
    frank = await b.user(unique_login("frank"))
    assert frank.user is not None and frank.device_id is not None
    frank_id = frank.user["_id"]
    await eventually(lambda: (frank_id, True) in observer.heard, "frank online, heard by every node")
    assert await observer.online(frank_id) == {frank_id}
    assert frank_id in await observer.bus.all_online_user_ids(frank.user["organization_id"])
    phone = await a.login(frank.user["login"])  # a second device: not a change of presence

    await frank.close()
    assert await observer.online(frank_id) == {frank_id}
    await phone.close()

    await eventually(lambda: (frank_id, False) in observer.heard, "frank offline, heard by every node")
    assert observer.heard.count((frank_id, True)) == 1
    assert await observer.online(frank_id) == set()


async def test_rate_limit_counts_a_users_devices_on_every_node(nodes: list[ServerInfo]) -> None:
    a, b, _ = nodes
    name = unique_login("flooder")
    phone = await a.user(name)
    laptop = await b.login(name)
    # 2 x 40 packets land in at most two one-second windows of 30: at least 20 are refused, though
    # each socket alone stays under its own limit (burst 100).
    for client, prefix in ((phone, "p"), (laptop, "l")):
        for index in range(40):
            await client.send({"request": {"ping": {}, "id": f"{prefix}{index}"}})
    refused = 0
    for client, prefix in ((phone, "p"), (laptop, "l")):
        for index in range(40):
            wanted = f"{prefix}{index}"
            reply = await client.wait_for(lambda p, w=wanted: p.get("response", {}).get("id") == w)
            if "error" in reply["response"]:
                assert reply["response"]["error"] == {"status": 429, "message": "Too many requests."}
                refused += 1
    assert refused >= 20
