"""The ephemeral top-level packets over the real socket: `typing` and `system_message`."""

from __future__ import annotations

from typing import Any

from schemas.common import new_id
from tests.chat_helpers import chat, other_org_user, uid, users
from tests.client import ChatClient, ServerInfo
from tests.e2e.message_helpers import listing


async def reply_to(client: ChatClient, kind: str, packet_id: str) -> dict[str, Any]:
    """The `ask` or the `{kind: {id, error}}` packet answering a top-level packet."""
    def matches(packet: dict[str, Any]) -> bool:
        failed = packet.get(kind)
        return packet.get("ask", {}).get("mid") == packet_id or (
            isinstance(failed, dict) and failed.get("id") == packet_id and "error" in failed
        )
    return await client.wait_for(matches)


# -- typing --------------------------------------------------------------------------------------


async def test_typing_reaches_the_other_participants_only(server: ServerInfo) -> None:
    alice = await server.user("alice")
    alice_tablet = await server.login("alice", device_id="alice-tablet")
    bob = await server.user("bob")
    cid = await chat(alice, bob, watchers=(alice_tablet,))

    await alice.send({"typing": {"cid": cid, "status": "start"}})
    assert await bob.event("typing") == {"cid": cid, "from": uid(alice), "status": "start"}
    await alice.send({"typing": {"cid": cid}})
    assert await bob.event("typing") == {"cid": cid, "from": uid(alice)}

    assert await alice.settle() == []  # no reply on success
    assert await alice_tablet.settle() == []  # the typist's own devices are not told


async def test_typing_refusals(server: ServerInfo) -> None:
    alice, bob, carol = await users(server, "alice", "bob", "carol")
    cid = await chat(alice, bob)
    dave = await other_org_user(server, "dave")
    cases: list[tuple[ChatClient, dict[str, Any], dict[str, Any]]] = [
        (carol, {"cid": cid}, {"status": 403, "message": "Forbidden."}),
        (dave, {"cid": cid}, {"status": 404, "message": "Conversation not found."}),
        (alice, {}, {"status": 422, "message": "'cid' is required."}),
        (alice, {"cid": "xcv"}, {"status": 422, "message": "Invalid 'cid': must be a 24-character hex id."}),
    ]
    for client, payload, expected in cases:
        await client.send({"typing": {"id": "t-1", **payload}})
        assert await client.event("typing", id="t-1") == {"id": "t-1", "error": expected}

    await alice.send({"typing": {"id": "t-2", "cid": cid, "status": "thinking"}})
    assert (await alice.event("typing", id="t-2"))["error"]["message"].startswith("Invalid 'status'")
    assert await bob.settle() == []


# -- system_message ------------------------------------------------------------------------------


async def test_system_message_to_a_conversation_is_relayed_not_stored(server: ServerInfo) -> None:
    alice = await server.user("alice")
    alice_tablet = await server.login("alice", device_id="alice-tablet")
    bob = await server.user("bob")
    cid = await chat(alice, bob, watchers=(alice_tablet,))

    await alice.send({"system_message": {"id": "s-1", "cid": cid, "x": {"param1": "value"}}})

    ask = (await reply_to(alice, "system_message", "s-1"))["ask"]
    assert set(ask) == {"mid", "t"} and ask["mid"] == "s-1"
    event = {"_id": "s-1", "t": ask["t"], "from": uid(alice), "x": {"param1": "value"}, "cid": cid}
    assert await bob.event("system_message") == event
    assert await alice_tablet.event("system_message") == event
    assert await alice.settle() == []
    assert await listing(bob, cid) == []


async def test_system_message_to_users_stays_in_the_organization(server: ServerInfo) -> None:
    alice, bob, carol = await users(server, "alice", "bob", "carol")
    dave = await other_org_user(server, "dave")

    await alice.send({"system_message": {"id": "s-2", "uids": [uid(bob), uid(dave)], "x": {"ping": 1}}})

    ask = (await reply_to(alice, "system_message", "s-2"))["ask"]
    assert await bob.event("system_message") == {"_id": "s-2", "t": ask["t"], "from": uid(alice),
                                                 "x": {"ping": 1}}
    assert await dave.settle() == [] and await carol.settle() == [] and await alice.settle() == []


async def test_system_message_refusals(server: ServerInfo) -> None:
    alice, bob, carol = await users(server, "alice", "bob", "carol")
    cid = await chat(alice, bob)
    cases: list[tuple[ChatClient, dict[str, Any], dict[str, Any]]] = [
        (carol, {"cid": cid}, {"status": 403, "message": "Forbidden."}),
        (alice, {"cid": new_id()}, {"status": 404, "message": "Conversation not found."}),
        (alice, {}, {"status": 422, "message": "Either 'cid' or 'uids' is required."}),
        (alice, {"cid": cid, "uids": [uid(bob)]}, {"status": 422, "message": "Send either 'cid' or 'uids', not both."}),
        (alice, {"uids": ["nope"]}, {"status": 422, "message": "Invalid 'uids.0': must be a 24-character hex id."}),
    ]
    for client, payload, expected in cases:
        await client.send({"system_message": {"id": "s-3", "x": {}, **payload}})
        assert (await reply_to(client, "system_message", "s-3")) == {"system_message": {"id": "s-3", "error": expected}}
    await alice.send({"system_message": {"cid": cid}})
    missing = await alice.wait_for(lambda p: "error" in p.get("system_message", {}))
    assert missing["system_message"]["error"] == {"status": 422, "message": "'id' is required."}
    assert await bob.settle() == []
