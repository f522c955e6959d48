"""Reactions over the real socket: `message_reactions_update`, `message_reactions_list` and the
`reactions` summary of `message_list`."""

from __future__ import annotations

from typing import Any

from schemas.common import new_id
from tests.chat_helpers import chat, org_of, other_org_user, send, uid, users
from tests.client import ChatClient, ServerInfo
from tests.e2e.message_helpers import listing

NOT_FOUND = {"status": 422, "message": "Message ID not found."}


async def react(client: ChatClient, mid: str, **change: str) -> dict[str, Any]:
    return await client.request("message_reactions_update", {"mid": mid, **change})


async def reactions_of(client: ChatClient, mid: str) -> dict[str, list[str]]:
    return dict((await client.request("message_reactions_list", {"mid": mid}))["reactions"])


async def group_with_message(server: ServerInfo) -> tuple[ChatClient, ChatClient, ChatClient, ChatClient, str, str]:
    """alice (and her tablet), bob and carol in a group where alice said something."""
    alice = await server.user("alice")
    alice_tablet = await server.login("alice", device_id="alice-tablet")
    bob, carol = await users(server, "bob", "carol")
    cid = await chat(alice, bob, carol, watchers=(alice_tablet,))
    mid = (await send(alice, cid, "lunch?"))["server_mid"]
    for client in (alice, alice_tablet, bob, carol):
        await client.settle()
    return alice, alice_tablet, bob, carol, cid, mid


async def test_reaction_reaches_participants_and_the_callers_other_devices(server: ServerInfo) -> None:
    alice, alice_tablet, bob, carol, cid, mid = await group_with_message(server)

    reply = await react(alice, mid, add="👍")
    assert reply["success"] is True and set(reply) == {"id", "success"}

    event = {"mid": mid, "cid": cid, "from": uid(alice), "add": "👍"}
    for client in (alice_tablet, bob, carol):
        assert await client.event("message_reactions_update") == event
    assert await alice.settle() == []  # never the sending socket
    assert await reactions_of(bob, mid) == {"👍": [uid(alice)]}


async def test_reactions_list_gathers_each_emoji_with_its_users(server: ServerInfo) -> None:
    alice, _, bob, carol, _, mid = await group_with_message(server)

    await react(bob, mid, add="🎉")
    await react(carol, mid, add="👍")
    await react(bob, mid, add="👍")

    listed = await reactions_of(alice, mid)
    assert listed == {"🎉": [uid(bob)], "👍": sorted([uid(bob), uid(carol)])}
    assert list(listed) == ["🎉", "👍"]  # in the order the emojis were first used


async def test_removing_a_reaction_tells_the_participants(server: ServerInfo) -> None:
    alice, alice_tablet, bob, carol, cid, mid = await group_with_message(server)
    await react(bob, mid, add="👍")
    for client in (alice, alice_tablet, carol):
        await client.event("message_reactions_update", add="👍")

    assert (await react(bob, mid, remove="👍"))["success"] is True

    event = {"mid": mid, "cid": cid, "from": uid(bob), "remove": "👍"}
    for client in (alice, alice_tablet, carol):
        assert await client.event("message_reactions_update") == event
    assert await reactions_of(alice, mid) == {}


async def test_add_and_remove_in_one_request(server: ServerInfo) -> None:
    alice, _, bob, _, cid, mid = await group_with_message(server)
    await react(bob, mid, add="👍")
    await alice.event("message_reactions_update", add="👍")

    await react(bob, mid, add="❤️", remove="👍")

    assert await alice.event("message_reactions_update") == {
        "mid": mid, "cid": cid, "from": uid(bob), "add": "❤️", "remove": "👍"}
    assert await reactions_of(alice, mid) == {"❤️": [uid(bob)]}


async def test_adding_the_same_emoji_twice_changes_nothing_and_tells_no_one(server: ServerInfo) -> None:
    alice, alice_tablet, bob, carol, _, mid = await group_with_message(server)
    await react(bob, mid, add="👍")
    for client in (alice, alice_tablet, carol):
        await client.event("message_reactions_update", add="👍")

    assert (await react(bob, mid, add="👍"))["success"] is True
    assert (await react(bob, mid, remove="🎉"))["success"] is True  # never added: nothing to remove

    for client in (alice, alice_tablet, bob, carol):
        assert await client.settle() == []
    assert await reactions_of(alice, mid) == {"👍": [uid(bob)]}


async def test_emoji_must_be_a_non_empty_string_of_at_most_ten_characters(server: ServerInfo) -> None:
    alice, alice_tablet, bob, carol, _, mid = await group_with_message(server)

    async def refusal(**payload: Any) -> dict[str, Any]:
        return await bob.error_of("message_reactions_update", {"mid": mid, **payload})

    assert (await refusal(add="x" * 11)) == {
        "status": 422, "message": "Invalid 'add': String should have at most 10 characters."}
    assert (await refusal(remove="x" * 11))["message"].startswith("Invalid 'remove'")
    assert (await refusal(add=""))["message"].startswith("Invalid 'add'")
    assert (await refusal(add="   "))["message"] == "Invalid 'add': must not be empty."
    assert (await refusal(add=5))["message"].startswith("Invalid 'add'")
    assert (await refusal())["status"] == 422
    assert (await refusal(add="👍", remove="👍"))["status"] == 422
    for client in (alice, alice_tablet, carol):
        assert await client.settle() == []
    assert await reactions_of(alice, mid) == {}

    family = "👨‍👩‍👧"  # five code points: fits
    await react(bob, mid, add=family)
    assert await reactions_of(alice, mid) == {family: [uid(bob)]}


async def test_message_id_must_be_known_and_well_formed(server: ServerInfo) -> None:
    _, _, bob, _, _, mid = await group_with_message(server)

    for name in ("message_reactions_update", "message_reactions_list"):
        assert await bob.error_of(name, {"mid": new_id(), "add": "👍"}) == NOT_FOUND
        assert await bob.error_of(name, {"add": "👍"}) == {"status": 422, "message": "'mid' is required."}
        assert (await bob.error_of(name, {"mid": "123", "add": "👍"}))["message"].startswith("Invalid 'mid'")


async def test_non_participants_can_neither_react_nor_list(server: ServerInfo) -> None:
    alice, alice_tablet, bob, carol, _, mid = await group_with_message(server)
    await react(bob, mid, add="👍")
    for client in (alice, alice_tablet, carol):
        await client.event("message_reactions_update", add="👍")
    outsider = await server.user("outsider")
    stranger = await other_org_user(server, "stranger")

    for client in (outsider, stranger):
        assert await client.error_of("message_reactions_update", {"mid": mid, "add": "🎉"}) == NOT_FOUND
        assert await client.error_of("message_reactions_update", {"mid": mid, "remove": "👍"}) == NOT_FOUND
        assert await client.error_of("message_reactions_list", {"mid": mid}) == NOT_FOUND

    for client in (alice, alice_tablet, bob, carol):
        assert await client.settle() == []
    assert await reactions_of(alice, mid) == {"👍": [uid(bob)]}


async def test_a_message_deleted_for_myself_cannot_be_reacted_to_by_that_user(server: ServerInfo) -> None:
    alice, _, bob, carol, cid, mid = await group_with_message(server)
    await bob.request("message_delete", {"cid": cid, "ids": [mid], "type": "myself"})

    assert await bob.error_of("message_reactions_update", {"mid": mid, "add": "👍"}) == NOT_FOUND
    await react(carol, mid, add="👍")
    assert await reactions_of(alice, mid) == {"👍": [uid(carol)]}


async def test_message_list_carries_a_reactions_summary_per_viewer(server: ServerInfo) -> None:
    alice, _, bob, carol, cid, liked = await group_with_message(server)
    quiet = (await send(alice, cid, "anyone?"))["server_mid"]
    await react(bob, liked, add="👍")
    await react(carol, liked, add="👍")
    await react(bob, liked, add="🎉")

    def summaries(messages: list[dict[str, Any]]) -> dict[str, Any]:
        return {m["_id"]: m.get("reactions") for m in messages}

    assert summaries(await listing(bob, cid)) == {
        quiet: None, liked: {"own": sorted(["👍", "🎉"]), "total": {"👍": 2, "🎉": 1}}}
    assert summaries(await listing(carol, cid)) == {
        quiet: None, liked: {"own": ["👍"], "total": {"👍": 2, "🎉": 1}}}
    assert summaries(await listing(alice, cid)) == {
        quiet: None, liked: {"own": [], "total": {"👍": 2, "🎉": 1}}}


async def test_deleting_a_message_for_everyone_removes_its_reactions(server: ServerInfo) -> None:
    alice, _, bob, _, cid, mid = await group_with_message(server)
    await react(bob, mid, add="👍")

    await alice.request("message_delete", {"cid": cid, "ids": [mid], "type": "all"})

    assert await bob.error_of("message_reactions_list", {"mid": mid}) == NOT_FOUND
    assert await server.app.storage.reactions.users_by_emoji(org_of(alice), mid) == {}


async def test_deleting_the_conversation_removes_its_reactions(server: ServerInfo) -> None:
    alice, bob = await users(server, "alice", "bob")
    cid = await chat(alice, bob)
    mid = (await send(alice, cid, "hi"))["server_mid"]
    await react(bob, mid, add="👍")

    for client in (alice, bob):  # the conversation goes once its last participant leaves
        await client.request("conversation_delete", {"id": cid})

    assert await bob.error_of("message_reactions_list", {"mid": mid}) == NOT_FOUND
    assert await server.app.storage.conversations.get(org_of(alice), cid) is None
    assert await server.app.storage.reactions.users_by_emoji(org_of(alice), mid) == {}


async def test_offline_participants_find_the_reaction_in_the_operations_log(server: ServerInfo) -> None:
    alice, bob = await users(server, "alice", "bob")
    carol = await server.create_user("carol")
    cid = str((await alice.request("conversation_create", {
        "type": "g", "name": "team", "participants": [uid(bob), str(carol["_id"])]}))["conversation"]["_id"])
    mid = (await send(alice, cid, "lunch?"))["server_mid"]

    await react(bob, mid, add="👍")

    carol_online = await server.login("carol")
    logs = (await carol_online.request("op_log_list", {"created_at": {"gt": 0}}))["logs"]
    packets = [log["packet"] for log in logs if "message_reactions_update" in log["packet"]]
    assert packets == [{"message_reactions_update": {"mid": mid, "cid": cid, "from": uid(bob), "add": "👍"}}]


async def test_a_blocker_gets_no_reactions_of_the_user_they_blocked(server: ServerInfo) -> None:
    alice, _, bob, carol, cid, mid = await group_with_message(server)
    await bob.request("block_user", {"ids": [uid(alice)]})

    await react(alice, mid, add="🔥")

    assert (await carol.event("message_reactions_update"))["add"] == "🔥"
    assert [p for p in await bob.settle() if "message_reactions_update" in p] == []
