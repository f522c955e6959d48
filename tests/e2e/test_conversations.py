"""Conversations over the socket: create and update, and the events other users receive.

Leaving is in test_conversation_leave.py, reading (list, search, participants) in
test_conversation_queries.py; both reuse the helpers below."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from schemas.common import new_id
from server.config import Settings
from tests.chat_helpers import create_group, org_of, other_organization, uid
from tests.client import ServerInfo
from tests.conftest import make_settings

MAX_PARTICIPANTS = 4


@pytest.fixture
def server_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data", conversation_max_participants=MAX_PARTICIPANTS)


def system_event_of(packets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [p["system_message"] for p in packets if "system_message" in p]


# -- create --------------------------------------------------------------------------------------


async def test_private_conversation_is_announced_to_opponent_and_creators_other_device(server: ServerInfo) -> None:
    alice = await server.user("alice")
    alice_tablet = await server.login("alice", device_id="alice-tablet")
    bob = await server.user("bob")

    body = await alice.request("conversation_create", {"type": "u", "participants": [uid(bob)]})

    conversation = body["conversation"]
    assert conversation["type"] == "u"
    assert conversation["owner_id"] == uid(alice)
    assert conversation["opponent_id"] == uid(bob)
    assert conversation["participants"] == [uid(alice), uid(bob)]
    assert conversation["created_at"].endswith("Z") and conversation["updated_at"].endswith("Z")
    assert "name" not in conversation
    for device in (bob, alice_tablet):
        event = await device.event("system_message", cid=conversation["_id"])
        assert event["from"] == uid(alice)
        assert isinstance(event["t"], int) and len(event["_id"]) == 24
        assert event["x"] == {"conversation_created": conversation}
    assert await alice.settle() == []


async def test_private_pair_gets_the_same_conversation_without_new_events(server: ServerInfo) -> None:
    alice = await server.user("alice")
    bob = await server.user("bob")
    first = (await alice.request("conversation_create", {"type": "u", "participants": [uid(bob)]}))["conversation"]
    await bob.event("system_message", cid=first["_id"])

    again = await bob.request("conversation_create", {"type": "u", "participants": [uid(alice), uid(bob)]})

    assert again["conversation"]["_id"] == first["_id"]
    assert again["conversation"]["participants"] == [uid(alice), uid(bob)]
    assert await alice.settle() == []
    assert await bob.settle() == []


async def test_private_conversation_recreated_after_leaving_brings_the_caller_back(server: ServerInfo) -> None:
    alice = await server.user("alice")
    bob = await server.user("bob")
    first = (await alice.request("conversation_create", {"type": "u", "participants": [uid(bob)]}))["conversation"]
    await alice.request("conversation_delete", {"id": first["_id"]})
    assert (await alice.request("conversation_list"))["conversations"] == []

    again = await alice.request("conversation_create", {"type": "u", "participants": [uid(bob)]})

    assert again["conversation"]["_id"] == first["_id"]
    assert sorted(again["conversation"]["participants"]) == sorted([uid(alice), uid(bob)])
    listed = (await alice.request("conversation_list"))["conversations"]
    assert [c["_id"] for c in listed] == [first["_id"]]


async def test_group_conversation_is_announced_to_every_participant(server: ServerInfo) -> None:
    alice = await server.user("alice")
    alice_tablet = await server.login("alice", device_id="alice-tablet")
    bob = await server.user("bob")
    carol = await server.user("carol")

    conversation = await create_group(alice, bob, carol, alice, name="Team", description="Our team")

    assert conversation["type"] == "g"
    assert conversation["name"] == "Team" and conversation["description"] == "Our team"
    assert conversation["owner_id"] == uid(alice)
    assert conversation["participants"] == [uid(alice), uid(bob), uid(carol)]
    assert "opponent_id" not in conversation
    for device in (bob, carol, alice_tablet):
        event = await device.event("system_message", cid=conversation["_id"])
        assert event["from"] == uid(alice)
        assert event["x"] == {"conversation_created": conversation}
    assert await alice.settle() == []


@pytest.mark.parametrize(("payload", "message"), [
    ({"participants": ["0" * 24]}, "Conversation type missed."),
    ({"type": "x", "participants": ["0" * 24]}, "The type you entered is incorrect."),
    ({"type": 5, "participants": ["0" * 24]}, "The type you entered is incorrect."),
    ({"type": "g", "name": "Team"}, "Participants not provided."),
    ({"type": "u", "participants": []}, "Participants not provided."),
    ({"type": "u", "participants": ["0" * 24]}, "We couldn't find the specified user."),
    ({"type": "u", "participants": ["not-an-id"]}, "Invalid 'participants.0': must be a 24-character hex id."),
    ({"type": "u", "participants": "0" * 24}, None),
])
async def test_create_refuses_bad_input(server: ServerInfo, payload: dict[str, Any], message: str | None) -> None:
    alice = await server.user("alice")

    refusal = await alice.error_of("conversation_create", payload)

    assert refusal["status"] == 422
    if message is None:
        assert "'participants'" in refusal["message"]
    else:
        assert refusal["message"] == message
    assert (await alice.request("conversation_list"))["conversations"] == []


async def test_create_refuses_wrong_participants(server: ServerInfo) -> None:
    alice = await server.user("alice")
    bob = await server.user("bob")
    carol = await server.user("carol")
    org = await other_organization(server)
    outsider = await server.user("olga", organization_id=org.id)
    crowd = [await server.create_user(f"member{i}") for i in range(MAX_PARTICIPANTS)]

    cases = [
        ({"type": "u", "participants": [uid(alice)]}, "Participants not provided."),
        ({"type": "u", "participants": [uid(bob), uid(carol)]},
         "There are too many users in the private conversation."),
        ({"type": "u", "participants": [uid(outsider)]}, "We couldn't find the specified user."),
        ({"type": "g", "name": "Team", "participants": [uid(bob), uid(outsider)]},
         "We couldn't find the specified user."),
        ({"type": "g", "participants": [uid(bob)]}, "'name' is required."),
        ({"type": "g", "name": "  ", "participants": [uid(bob)]}, "'name' is required."),
        ({"type": "g", "name": "Crowd", "participants": [user["_id"] for user in crowd]},
         "You've reached the maximum participant limit."),
    ]
    for payload, message in cases:
        assert await alice.error_of("conversation_create", payload) == {"status": 422, "message": message}
    assert (await alice.request("conversation_list"))["conversations"] == []
    assert await bob.settle() == []
    assert await outsider.settle() == []


async def test_group_at_the_participant_limit_is_allowed(server: ServerInfo) -> None:
    alice = await server.user("alice")
    members = [await server.user(f"member{i}") for i in range(MAX_PARTICIPANTS - 1)]

    conversation = await create_group(alice, *members)

    assert len(conversation["participants"]) == MAX_PARTICIPANTS


async def test_create_needs_a_session(server: ServerInfo) -> None:
    anonymous = await server.client()

    refusal = await anonymous.error_of("conversation_create", {"type": "u", "participants": [new_id()]})

    assert refusal == {"status": 401, "message": "Unauthorized."}


# -- update --------------------------------------------------------------------------------------


async def test_participant_renames_group_and_others_are_told(server: ServerInfo) -> None:
    alice = await server.user("alice")
    bob = await server.user("bob")
    bob_tablet = await server.login("bob", device_id="bob-tablet")
    carol = await server.user("carol")
    conversation = await create_group(alice, bob, carol)
    for device in (bob, bob_tablet, carol):
        await device.event("system_message", cid=conversation["_id"])

    body = await bob.request("conversation_update", {
        "id": conversation["_id"], "name": "Renamed", "description": "New topic",
    })

    updated = body["conversation"]
    assert updated["name"] == "Renamed" and updated["description"] == "New topic"
    assert updated["participants"] == conversation["participants"]
    assert updated["updated_at"] >= conversation["updated_at"]
    for device in (alice, carol, bob_tablet):
        event = await device.event("system_message", cid=conversation["_id"])
        assert event["from"] == uid(bob)
        assert event["x"] == {"conversation_updated": updated}
    assert await bob.settle() == []
    searched = await carol.request("conversation_search", {"name": "ren"})
    assert [c["_id"] for c in searched["conversations"]] == [conversation["_id"]]


async def test_owner_adds_participant_who_is_told_and_everyone_sees_the_message(server: ServerInfo) -> None:
    alice = await server.user("alice")
    bob = await server.user("bob")
    dave = await server.user("dave", first_name="Dave", last_name="Smith")
    conversation = await create_group(alice, bob)
    cid = conversation["_id"]
    await bob.event("system_message", cid=cid)

    body = await alice.request("conversation_update", {"id": cid, "participants": {"add": [uid(dave)]}})

    updated = body["conversation"]
    assert updated["participants"] == [uid(alice), uid(bob), uid(dave)]
    event = await dave.event("system_message", cid=cid)
    assert event["from"] == uid(alice)
    assert event["x"] == {"conversation_updated": updated}
    for device in (alice, bob, dave):
        message = await device.event("message", cid=cid)
        assert message["body"] == "Dave Smith has been added to the group"
        assert message["from"] == uid(alice)
        assert message["x"]["type"] == "added_participant"
        assert message["x"]["user"]["_id"] == uid(dave)
        assert message["x"]["user"]["first_name"] == "Dave"
        assert "password_hash" not in message["x"]["user"]
    assert await alice.settle() == []
    assert await bob.settle() == []
    stored = (await dave.request("message_list", {"cid": cid}))["messages"]
    assert [(m["body"], m["x"]["type"]) for m in stored] == [
        ("Dave Smith has been added to the group", "added_participant"),
    ]


async def test_owner_removes_participant_who_is_kicked(server: ServerInfo) -> None:
    alice = await server.user("alice")
    bob = await server.user("bob", first_name="Bob")
    carol = await server.user("carol")
    conversation = await create_group(alice, bob, carol)
    cid = conversation["_id"]
    for device in (bob, carol):
        await device.event("system_message", cid=cid)

    body = await alice.request("conversation_update", {"id": cid, "participants": {"remove": [uid(bob)]}})

    updated = body["conversation"]
    assert updated["participants"] == [uid(alice), uid(carol)]
    kicked = await bob.event("system_message", cid=cid)
    assert kicked["x"] == {"conversation_kicked": updated}
    for device in (alice, carol):
        message = await device.event("message", cid=cid)
        assert message["body"] == "Bob has been removed from the group"
        assert message["x"]["type"] == "removed_participant"
        assert message["x"]["user"]["_id"] == uid(bob)
    assert await bob.settle() == []
    assert await carol.settle() == []
    assert (await bob.request("conversation_list"))["conversations"] == []
    assert await bob.error_of("message_list", {"cid": cid}) == {"status": 403, "message": "Forbidden."}
    stored = await server.app.storage.messages.page(
        org_of(alice), cid, uid(alice),
        created_gt=None, created_lt=None, ids=None, limit=10,
    )
    assert [m.x["type"] for m in stored if m.x] == ["removed_participant"]


async def test_update_refusals(server: ServerInfo) -> None:
    alice = await server.user("alice")
    bob = await server.user("bob")
    carol = await server.user("carol")
    org = await other_organization(server)
    outsider = await server.user("olga", organization_id=org.id)
    group = await create_group(alice, bob)
    private = (await alice.request("conversation_create", {"type": "u", "participants": [uid(bob)]}))["conversation"]
    extra = [await server.create_user(f"member{i}") for i in range(MAX_PARTICIPANTS - 1)]

    forbidden = {"status": 403, "message": "Forbidden."}
    assert await bob.error_of("conversation_update", {
        "id": group["_id"], "participants": {"add": [uid(carol)]}}) == forbidden
    assert await bob.error_of("conversation_update", {
        "id": group["_id"], "participants": {"remove": [uid(alice)]}}) == forbidden
    assert await carol.error_of("conversation_update", {"id": group["_id"], "name": "Mine"}) == forbidden
    assert await outsider.error_of("conversation_update", {"id": group["_id"], "name": "Mine"}) == {
        "status": 404, "message": "Conversation not found."}
    assert await alice.error_of("conversation_update", {"id": new_id(), "name": "X"}) == {
        "status": 404, "message": "Conversation not found."}
    assert await alice.error_of("conversation_update", {"name": "X"}) == {
        "status": 422, "message": "'id' is required."}
    assert (await alice.error_of("conversation_update", {"id": "123", "name": "X"}))["message"].startswith(
        "Invalid 'id'")
    assert (await alice.error_of("conversation_update", {
        "id": group["_id"], "participants": {"add": ["nope"]}}))["message"].startswith(
        "Invalid 'participants.add.0'")
    user_not_found = {"status": 422, "message": "We couldn't find the specified user."}
    assert await alice.error_of("conversation_update", {
        "id": group["_id"], "participants": {"add": [uid(outsider)]}}) == user_not_found
    assert await alice.error_of("conversation_update", {
        "id": group["_id"], "participants": {"add": [new_id()]}}) == user_not_found
    assert await alice.error_of("conversation_update", {
        "id": group["_id"], "participants": {"add": [u["_id"] for u in extra]}}) == {
        "status": 422, "message": "You've reached the maximum participant limit."}
    assert await alice.error_of("conversation_update", {"id": group["_id"], "name": " "}) == {
        "status": 422, "message": "'name' is required."}
    assert await alice.error_of("conversation_update", {
        "id": private["_id"], "participants": {"add": [uid(carol)]}}) == {
        "status": 422, "message": "The participants of a private conversation cannot be changed."}
    assert await alice.error_of("conversation_update", {"id": private["_id"], "name": "Us"}) == {
        "status": 422, "message": "A private conversation cannot be renamed."}

    participants = await server.app.storage.conversations.participant_ids(org_of(alice), group["_id"])
    assert participants == [uid(alice), uid(bob)]
    assert system_event_of(await carol.settle()) == []
    assert await outsider.settle() == []


async def test_rename_and_add_in_one_update_tells_the_added_user_once(server: ServerInfo) -> None:
    alice = await server.user("alice")
    bob = await server.user("bob")
    dave = await server.user("dave")
    conversation = await create_group(alice, bob)
    cid = conversation["_id"]
    await bob.event("system_message", cid=cid)

    body = await alice.request("conversation_update", {
        "id": cid, "name": "Bigger", "participants": {"add": [uid(dave)], "remove": [uid(alice)]},
    })

    updated = body["conversation"]
    assert updated["name"] == "Bigger" and updated["participants"] == [uid(alice), uid(bob), uid(dave)]
    assert (await bob.event("system_message", cid=cid))["x"] == {"conversation_updated": updated}
    await bob.event("message", cid=cid)
    dave_packets = await dave.settle()
    assert [p["system_message"]["x"] for p in dave_packets if "system_message" in p] == [
        {"conversation_updated": updated}]
    assert [p["message"]["body"] for p in dave_packets if "message" in p] == ["dave has been added to the group"]
    assert [next(iter(p)) for p in await alice.settle()] == ["message"]
    assert await alice.error_of("conversation_update", {
        "id": cid, "participants": {"add": [uid(bob)], "remove": [uid(bob)]}}) == {
        "status": 422, "message": "A user cannot be added and removed at the same time."}
