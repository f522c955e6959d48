"""Leaving conversations over the socket (`conversation_delete`): who is told, who owns the
group afterwards, and when the conversation disappears."""

from __future__ import annotations

from tests.chat_helpers import create_group, org_of, other_organization, uid
from tests.client import ServerInfo


async def test_member_leaves_group_and_the_others_see_the_message(server: ServerInfo) -> None:
    alice = await server.user("alice")
    bob = await server.user("bob")
    carol = await server.user("carol")
    conversation = await create_group(alice, bob, carol)
    cid = conversation["_id"]
    for device in (bob, carol):
        await device.event("system_message", cid=cid)

    body = await bob.request("conversation_delete", {"id": cid})

    assert body["success"] is True

    for device in (alice, carol):
        message = await device.event("message", cid=cid)
        assert message["body"] == "bob has left the group"
        assert message["from"] == uid(bob)
        assert message["x"]["type"] == "left_participants"
        assert message["x"]["user"]["_id"] == uid(bob)
    assert await alice.settle() == []
    assert await bob.settle() == []
    assert (await bob.request("conversation_list"))["conversations"] == []
    listed = (await alice.request("conversation_list"))["conversations"]
    assert listed[0]["owner_id"] == uid(alice)
    assert await bob.error_of("conversation_delete", {"id": cid}) == {"status": 403, "message": "Forbidden."}


async def test_owner_leaving_passes_ownership_to_the_earliest_participant(server: ServerInfo) -> None:
    alice = await server.user("alice")
    bob = await server.user("bob")
    carol = await server.user("carol")
    conversation = await create_group(alice, bob, carol)
    cid = conversation["_id"]
    for device in (bob, carol):
        await device.event("system_message", cid=cid)

    await alice.request("conversation_delete", {"id": cid})

    for device in (bob, carol):
        event = await device.event("system_message", cid=cid)
        assert event["x"]["conversation_updated"]["owner_id"] == uid(bob)
        assert event["x"]["conversation_updated"]["participants"] == [uid(bob), uid(carol)]
        message = await device.event("message", cid=cid)
        assert message["body"] == "alice has left the group"
    listed = (await carol.request("conversation_list"))["conversations"]
    assert listed[0]["owner_id"] == uid(bob)
    await bob.request("conversation_update", {"id": cid, "participants": {"remove": [uid(carol)]}})
    assert (await carol.event("system_message", cid=cid))["x"]["conversation_kicked"]["owner_id"] == uid(bob)


async def test_last_participant_leaving_deletes_the_conversation(server: ServerInfo) -> None:
    alice = await server.user("alice")
    bob = await server.user("bob")
    conversation = await create_group(alice, bob)
    cid = conversation["_id"]
    await bob.request("conversation_delete", {"id": cid})
    await alice.event("message", cid=cid)

    await alice.request("conversation_delete", {"id": cid})

    assert await server.app.storage.conversations.get(org_of(alice), cid) is None
    assert await alice.error_of("conversation_delete", {"id": cid}) == {
        "status": 404, "message": "Conversation not found."}


async def test_leaving_a_private_conversation_tells_nobody(server: ServerInfo) -> None:
    alice = await server.user("alice")
    bob = await server.user("bob")
    conversation = (await alice.request("conversation_create", {"type": "u", "participants": [uid(bob)]}))[
        "conversation"]
    await bob.event("system_message", cid=conversation["_id"])

    assert (await alice.request("conversation_delete", {"id": conversation["_id"]}))["success"] is True

    assert await bob.settle() == []
    assert [c["_id"] for c in (await bob.request("conversation_list"))["conversations"]] == [conversation["_id"]]
    assert (await alice.request("conversation_list"))["conversations"] == []


async def test_delete_refusals(server: ServerInfo) -> None:
    alice = await server.user("alice")
    bob = await server.user("bob")
    carol = await server.user("carol")
    org = await other_organization(server)
    outsider = await server.user("olga", organization_id=org.id)
    conversation = await create_group(alice, bob)

    assert await carol.error_of("conversation_delete", {"id": conversation["_id"]}) == {
        "status": 403, "message": "Forbidden."}
    assert await outsider.error_of("conversation_delete", {"id": conversation["_id"]}) == {
        "status": 404, "message": "Conversation not found."}
    assert await alice.error_of("conversation_delete", {}) == {"status": 422, "message": "'id' is required."}
    assert (await alice.error_of("conversation_delete", {"id": 12}))["message"].startswith("Invalid 'id'")
    participants = await server.app.storage.conversations.participant_ids(org_of(alice), conversation["_id"])
    assert participants == [uid(alice), uid(bob)]
