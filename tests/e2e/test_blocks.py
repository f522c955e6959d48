"""The block list over the real socket: block_user, unblock_user, list_blocked_users, and what a
block stops: private messages to the blocker, and the blocked user's messages and typing reaching
the blocker in groups."""

from __future__ import annotations

import pytest

from schemas.common import new_id
from tests.chat_helpers import chat, other_org_user, send, send_error, uid, users
from tests.client import ChatClient, ServerInfo
from tests.e2e.message_helpers import listing

BLOCKED = {"status": 422, "message": "Communication is not possible - you are in a block list of the recipient."}


async def blocked_list(client: ChatClient) -> list[str]:
    return list((await client.request("list_blocked_users"))["users"])


# -- block_user / unblock_user / list_blocked_users ---------------------------------------------

async def test_block_unblock_and_list(server: ServerInfo) -> None:
    alice, bob, carol = await users(server, "alice", "bob", "carol")

    assert (await alice.request("block_user", {"ids": [uid(bob)]}))["success"] is True
    await alice.request("block_user", {"ids": [uid(carol), uid(bob)]})  # bob again: harmless
    assert await blocked_list(alice) == [uid(bob), uid(carol)]
    assert await blocked_list(bob) == []

    assert (await alice.request("unblock_user", {"ids": [uid(bob), new_id()]}))["success"] is True
    assert await blocked_list(alice) == [uid(carol)]
    await alice.request("unblock_user", {"id": uid(carol)})  # the single-id form the SAMA server takes
    assert await blocked_list(alice) == []


async def test_block_ignores_ids_that_are_not_users_of_the_organization(server: ServerInfo) -> None:
    alice, bob = await users(server, "alice", "bob")
    stranger = await other_org_user(server, "stranger")

    await alice.request("block_user", {"ids": [new_id(), uid(stranger), uid(bob)]})

    assert await blocked_list(alice) == [uid(bob)]
    await stranger.request("block_user", {"ids": [uid(alice)]})
    assert await blocked_list(stranger) == []


async def test_block_refusals(server: ServerInfo) -> None:
    alice, bob = await users(server, "alice", "bob")

    assert await alice.error_of("block_user", {"ids": [uid(bob), uid(alice)]}) == {
        "status": 422, "message": "Invalid 'ids': you can't block yourself."}
    assert await blocked_list(alice) == []  # nobody was blocked, bob included
    assert (await alice.error_of("block_user", {"ids": ["nope"]}))["message"].startswith("Invalid 'ids.0'")
    assert (await alice.error_of("block_user", {"ids": []}))["message"].startswith("Invalid 'ids'")
    assert await alice.error_of("block_user", {}) == {"status": 422, "message": "'ids' is required."}
    assert (await alice.error_of("unblock_user", {"ids": [12]}))["message"].startswith("Invalid 'ids.0'")
    anonymous = await server.client()
    for name, payload in (("block_user", {"ids": [uid(bob)]}), ("unblock_user", {"ids": [uid(bob)]}),
                          ("list_blocked_users", {})):
        assert await anonymous.error_of(name, payload) == {"status": 401, "message": "Unauthorized."}


# -- private conversations -------------------------------------------------------------------------

async def test_blocked_user_cannot_message_the_blocker_and_nothing_is_stored(server: ServerInfo) -> None:
    alice, bob = await users(server, "alice", "bob")
    cid = await chat(alice, bob)
    await alice.request("block_user", {"ids": [uid(bob)]})

    packet = await send_error(bob, {"id": "m-1", "cid": cid, "body": "let me explain"})

    assert packet == {"message": {"id": "m-1", "error": BLOCKED}}
    assert await alice.settle() == []
    assert await listing(alice, cid) == [] and await listing(bob, cid) == []


async def test_blocked_user_cannot_message_a_blocker_who_left_the_private_chat(server: ServerInfo) -> None:
    alice, bob = await users(server, "alice", "bob")
    cid = await chat(alice, bob)
    await alice.request("block_user", {"ids": [uid(bob)]})
    await alice.request("conversation_delete", {"id": cid})
    await bob.settle()

    packet = await send_error(bob, {"cid": cid, "body": "are you there?"})

    assert packet["message"]["error"] == BLOCKED
    assert await alice.settle() == []
    assert await listing(bob, cid) == []


async def test_blocker_can_still_message_the_blocked_user(server: ServerInfo) -> None:
    alice, bob = await users(server, "alice", "bob")
    cid = await chat(alice, bob)
    await alice.request("block_user", {"ids": [uid(bob)]})

    ask = await send(alice, cid, "goodbye")

    assert (await bob.event("message", _id=ask["server_mid"]))["body"] == "goodbye"


async def test_typing_of_a_blocked_user_does_not_reach_the_blocker(server: ServerInfo) -> None:
    alice, bob = await users(server, "alice", "bob")
    cid = await chat(alice, bob)
    await alice.request("block_user", {"ids": [uid(bob)]})

    await bob.send({"typing": {"cid": cid, "status": "start"}})

    assert await bob.settle() == []  # processed, and no error comes back
    assert await alice.settle() == []


async def test_unblock_lets_the_private_messages_through_again(server: ServerInfo) -> None:
    alice, bob = await users(server, "alice", "bob")
    cid = await chat(alice, bob)
    await alice.request("block_user", {"ids": [uid(bob)]})
    await send_error(bob, {"cid": cid, "body": "blocked"})

    await alice.request("unblock_user", {"ids": [uid(bob)]})
    ask = await send(bob, cid, "sorry")

    assert (await alice.event("message", _id=ask["server_mid"]))["body"] == "sorry"
    assert [message["body"] for message in await listing(alice, cid)] == ["sorry"]


# -- groups ------------------------------------------------------------------------------------------

async def test_blocker_receives_none_of_the_blocked_users_group_messages(server: ServerInfo) -> None:
    alice, bob, carol = await users(server, "alice", "bob", "carol")
    cid = await chat(alice, bob, carol)
    await alice.request("block_user", {"ids": [uid(bob)]})

    ask = await send(bob, cid, "hi all")

    assert (await carol.event("message", _id=ask["server_mid"]))["body"] == "hi all"
    assert await alice.settle() == []
    own = await send(alice, cid, "hello")  # the blocker still talks to the group, bob included
    assert (await bob.event("message", _id=own["server_mid"]))["body"] == "hello"


async def test_blocker_receives_none_of_the_blocked_users_group_typing(server: ServerInfo) -> None:
    alice, bob, carol = await users(server, "alice", "bob", "carol")
    cid = await chat(alice, bob, carol)
    await alice.request("block_user", {"ids": [uid(bob)]})

    await bob.send({"typing": {"cid": cid, "status": "start"}})

    assert await carol.event("typing") == {"cid": cid, "from": uid(bob), "status": "start"}
    assert await alice.settle() == []


@pytest.mark.parametrize("packet", ["message", "typing"])
async def test_unblock_restores_group_deliveries(server: ServerInfo, packet: str) -> None:
    alice, bob, carol = await users(server, "alice", "bob", "carol")
    cid = await chat(alice, bob, carol)
    await alice.request("block_user", {"ids": [uid(bob)]})
    await alice.request("unblock_user", {"ids": [uid(bob)]})

    if packet == "message":
        ask = await send(bob, cid, "back")
        assert (await alice.event("message", _id=ask["server_mid"]))["body"] == "back"
    else:
        await bob.send({"typing": {"cid": cid}})
        assert await alice.event("typing") == {"cid": cid, "from": uid(bob)}


async def test_deleting_an_account_clears_the_blocks_it_made_and_received(server: ServerInfo) -> None:
    alice, bob, carol = await users(server, "alice", "bob", "carol")
    await alice.request("block_user", {"ids": [uid(bob)]})
    await bob.request("block_user", {"ids": [uid(carol)]})

    await bob.request("user_delete")

    assert await blocked_list(alice) == []
    assert alice.user is not None
    assert await server.app.storage.blocks.list_blocked(alice.user["organization_id"], uid(bob)) == []
