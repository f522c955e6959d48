"""The rest of the delivery rules across nodes: system messages, reactions, last activity and the
admin view of who is online."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.chat_helpers import conversation, send, unique_login
from tests.client import ServerInfo
from tests.cluster.conftest import running_cluster
from tests.cluster.nodes import ADMIN_KEY, Cluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with running_cluster(tmp_path_factory, 2) as running:
        yield running


async def test_system_messages_and_reactions_cross_nodes(nodes: list[ServerInfo]) -> None:
    a, b = nodes
    alice = await a.user(unique_login("alice"))
    bob = await b.user(unique_login("bob"))
    assert alice.user is not None and bob.user is not None
    cid = await conversation(alice, bob)
    await bob.event("system_message", cid=cid)

    await alice.send({"system_message": {"id": "s1", "uids": [bob.user["_id"]], "x": {"ping": 1}}})
    assert (await bob.event("system_message", _id="s1"))["x"] == {"ping": 1}
    await alice.send({"system_message": {"id": "s2", "cid": cid, "x": {"game": "on"}}})
    assert (await bob.event("system_message", _id="s2"))["cid"] == cid

    ask = await send(alice, cid, "react to me")
    await bob.event("message", _id=ask["server_mid"])
    await bob.request("message_reactions_update", {"mid": ask["server_mid"], "add": "👍"})
    reaction = await alice.event("message_reactions_update", mid=ask["server_mid"])
    assert (reaction["from"], reaction["add"]) == (bob.user["_id"], "👍")


async def test_last_activity_subscription_hears_a_user_on_another_node(nodes: list[ServerInfo]) -> None:
    a, b = nodes
    watcher = await a.user(unique_login("watcher"))
    carol_login = unique_login("carol")
    carol_created = await b.create_user(carol_login)
    carol_id = carol_created["_id"]

    reply = await watcher.request("user_last_activity_subscribe", {"id": carol_id})
    assert isinstance(reply["last_activity"][carol_id], int)  # offline: seconds

    carol = await b.login(carol_login)
    assert await watcher.event("last_activity") == {carol_id: "online"}
    assert (await watcher.request("user_last_activity", {"ids": [carol_id]}))["last_activity"] == {
        carol_id: "online"}

    await carol.close()
    offline = await watcher.event("last_activity")
    assert isinstance(offline[carol_id], int)


async def test_admin_online_view_counts_every_node(nodes: list[ServerInfo]) -> None:
    a, b = nodes
    dave = await a.user(unique_login("dave"))
    erin = await b.user(unique_login("erin"))
    assert dave.user is not None and erin.user is not None
    body = {"organizationId": dave.user["organization_id"], "idsOnly": True, "limit": 1000}

    status, answer, _ = await a.http("POST", "/admin/activity/online", json=body,
                                     headers={"Admin-Api-Key": ADMIN_KEY})

    assert status == 200, answer
    assert {dave.user["_id"], erin.user["_id"]} <= set(answer["users"])
