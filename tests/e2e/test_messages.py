"""Messages over the real socket: send (`message` + `ask`), list, read marks, edit, delete.

`typing` and `system_message` are proven in `test_message_events.py`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from schemas.common import new_id, now_ms
from server.config import Settings
from tests.chat_helpers import chat, other_org_user, send, send_error, uid, users
from tests.client import ChatClient, ServerInfo
from tests.conftest import make_settings
from tests.e2e.message_helpers import listing, ms

PRELOAD = 3


@pytest.fixture
def server_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data", message_preload_count=PRELOAD)


# -- message -------------------------------------------------------------------------------------


async def test_message_is_acked_with_stored_id_and_delivered_with_carbons(server: ServerInfo) -> None:
    alice = await server.user("alice", first_name="Alice")
    alice_tablet = await server.login("alice", device_id="alice-tablet")
    bob = await server.user("bob")
    cid = await chat(alice, bob, watchers=(alice_tablet,))
    upload = [{"name": "file_1", "size": 1, "content_type": "text/plain"}]
    [announced] = (await alice.request("create_files", upload))["files"]
    attachments = [{"file_id": announced["_id"], "file_name": "file_1"}]

    ask = await send(alice, cid, "hey how is going?", x={"param1": "value"}, attachments=attachments)

    assert set(ask) == {"mid", "server_mid", "t"} and len(ask["server_mid"]) == 24
    received = await bob.event("message", _id=ask["server_mid"])
    assert received == {
        "_id": ask["server_mid"], "cid": cid, "from": uid(alice), "t": ask["t"], "body": "hey how is going?",
        "x": {"param1": "value"}, "attachments": attachments,
        "created_at": received["created_at"], "updated_at": received["created_at"],
    }
    assert await alice_tablet.event("message", _id=ask["server_mid"]) == received
    assert await alice.settle() == []
    stored = (await listing(bob, cid))[0]
    assert stored == {**received, "status": "sent"}
    assert stored["t"] == ask["t"]


async def test_group_message_reaches_every_participant(server: ServerInfo) -> None:
    alice, bob, carol = await users(server, "alice", "bob", "carol")
    cid = await chat(alice, bob, carol)

    ask = await send(bob, cid, "hi all")

    for client in (alice, carol):
        assert (await client.event("message", _id=ask["server_mid"]))["body"] == "hi all"
    assert await bob.settle() == []


async def test_message_with_only_attachments_keeps_them_as_sent(server: ServerInfo) -> None:
    alice, bob = await server.user("alice"), await server.user("bob")
    cid = await chat(alice, bob)
    attachments = [{"name": "file_1", "size": 240, "content_type": "image/png"}]

    ask = await send(alice, cid, body=None, attachments=attachments)

    received = await bob.event("message", _id=ask["server_mid"])
    assert received["attachments"] == attachments and "body" not in received


@pytest.mark.parametrize("fields", [{}, {"body": "   "}, {"body": "", "attachments": []}])
async def test_empty_message_is_refused(server: ServerInfo, fields: dict[str, Any]) -> None:
    alice, bob = await server.user("alice"), await server.user("bob")
    cid = await chat(alice, bob)

    packet = await send_error(alice, {"id": "m-1", "cid": cid, **fields})

    assert packet == {"message": {"id": "m-1", "error": {
        "status": 422, "message": "Either message body or attachments required."}}}
    assert await bob.settle() == []
    assert await listing(bob, cid) == []


async def test_message_refuses_bad_fields_naming_them(server: ServerInfo) -> None:
    alice, bob = await server.user("alice"), await server.user("bob")
    cid = await chat(alice, bob)

    async def refusal(payload: dict[str, Any]) -> dict[str, Any]:
        return dict((await send_error(alice, payload))["message"]["error"])

    assert await refusal({"body": "x"}) == {"status": 422, "message": "'cid' is required."}
    assert await refusal({"cid": "abc", "body": "x"}) == {
        "status": 422, "message": "Invalid 'cid': must be a 24-character hex id."}
    too_many = [{"file_id": str(n)} for n in range(11)]
    assert (await refusal({"cid": cid, "attachments": too_many}))["message"].startswith("Invalid 'attachments'")
    assert (await refusal({"cid": cid, "attachments": ["x"]}))["message"].startswith("Invalid 'attachments.0'")
    await alice.send({"message": {"cid": cid, "body": "no client id"}})
    missing_id = await alice.wait_for(lambda p: "error" in p.get("message", {}))
    assert missing_id == {"message": {"id": None, "error": {"status": 422, "message": "'id' is required."}}}
    assert await bob.settle() == []


async def test_non_participant_cannot_send_and_nothing_is_delivered(server: ServerInfo) -> None:
    alice, bob, carol = await users(server, "alice", "bob", "carol")
    cid = await chat(alice, bob)

    packet = await send_error(carol, {"id": "m-2", "cid": cid, "body": "let me in"})

    assert packet == {"message": {"id": "m-2", "error": {"status": 403, "message": "Forbidden."}}}
    assert await alice.settle() == [] and await bob.settle() == []
    unknown = await send_error(alice, {"cid": new_id(), "body": "anyone?"})
    assert unknown["message"]["error"] == {"status": 404, "message": "Conversation not found."}


async def test_other_organization_cannot_send_to_or_see_a_conversation(server: ServerInfo) -> None:
    alice, bob = await server.user("alice"), await server.user("bob")
    cid = await chat(alice, bob)
    await send(alice, cid, "secret")
    await bob.event("message", body="secret")
    dave = await other_org_user(server, "dave")

    packet = await send_error(dave, {"cid": cid, "body": "hi"})

    assert packet["message"]["error"] == {"status": 404, "message": "Conversation not found."}
    assert await dave.error_of("message_list", {"cid": cid}) == {"status": 404, "message": "Conversation not found."}
    assert await alice.settle() == [] and await bob.settle() == []


async def test_message_without_session_is_unauthorized(server: ServerInfo) -> None:
    anonymous = await server.client()

    packet = await send_error(anonymous, {"id": "m-3", "cid": new_id(), "body": "hi"})

    assert packet == {"message": {"id": "m-3", "error": {"status": 401, "message": "Unauthorized."}}}


async def test_reply_must_point_to_a_message_of_the_same_conversation(server: ServerInfo) -> None:
    alice, bob, carol = await users(server, "alice", "bob", "carol")
    cid = await chat(alice, bob)
    elsewhere = await chat(alice, carol)
    original = await send(bob, cid, "question")
    foreign = await send(carol, elsewhere, "other chat")
    await alice.settle()

    ask = await send(alice, cid, "answer", replied_message_id=original["server_mid"])

    received = await bob.event("message", _id=ask["server_mid"])
    assert received["replied_message_id"] == original["server_mid"]
    for wrong in (foreign["server_mid"], new_id()):
        packet = await send_error(alice, {"cid": cid, "body": "x", "replied_message_id": wrong})
        assert packet["message"]["error"] == {"status": 422, "message": "Incorrect replied message ID."}


async def test_forward_needs_a_message_the_sender_can_see(server: ServerInfo) -> None:
    alice, bob, carol = await users(server, "alice", "bob", "carol")
    with_bob = await chat(alice, bob)
    with_carol = await chat(alice, carol)
    bob_carol = await chat(bob, carol)
    seen = await send(bob, with_bob, "forward me")
    hidden = await send(carol, bob_carol, "between us")
    await alice.settle()

    ask = await send(alice, with_carol, "forward me", forwarded_message_id=seen["server_mid"])

    assert (await carol.event("message", _id=ask["server_mid"]))["forwarded_message_id"] == seen["server_mid"]
    packet = await send_error(alice, {"cid": with_carol, "body": "x", "forwarded_message_id": hidden["server_mid"]})
    assert packet["message"]["error"] == {"status": 422, "message": "Message ID not found."}


async def test_message_brings_back_the_opponent_who_deleted_the_private_chat(server: ServerInfo) -> None:
    alice, bob = await server.user("alice"), await server.user("bob")
    cid = await chat(alice, bob)
    await bob.request("conversation_delete", {"id": cid})
    assert await bob.error_of("message_list", {"cid": cid}) == {"status": 403, "message": "Forbidden."}
    await alice.settle()

    ask = await send(alice, cid, "are you there?")

    assert (await bob.event("message", _id=ask["server_mid"]))["body"] == "are you there?"
    assert [m["_id"] for m in await listing(bob, cid)] == [ask["server_mid"]]


# -- message_list --------------------------------------------------------------------------------


async def test_message_list_is_newest_first_and_capped(server: ServerInfo) -> None:
    alice, bob = await server.user("alice"), await server.user("bob")
    cid = await chat(alice, bob)
    sent = [(await send(alice, cid, f"m{n}"))["server_mid"] for n in range(PRELOAD + 1)]

    assert [m["_id"] for m in await listing(bob, cid)] == sent[::-1][:PRELOAD]
    assert [m["_id"] for m in await listing(bob, cid, limit=100)] == sent[::-1][:PRELOAD]
    assert [m["_id"] for m in await listing(bob, cid, limit=2)] == sent[::-1][:2]
    assert [m["_id"] for m in await listing(bob, cid, ids=[sent[0], sent[2], new_id()])] == [sent[2], sent[0]]
    assert (await bob.error_of("message_list", {"cid": cid, "limit": 0}))["message"].startswith("Invalid 'limit'")


async def test_message_list_filters_on_created_at(server: ServerInfo) -> None:
    alice, bob = await server.user("alice"), await server.user("bob")
    cid = await chat(alice, bob)
    first, second, third = [(await send(alice, cid, f"m{n}"))["server_mid"] for n in range(3)]
    created = {m["_id"]: ms(m["created_at"]) for m in await listing(bob, cid)}
    # Editing the first message moves its updated_at past every created_at: the filter ignores it.
    await alice.request("message_edit", {"id": first, "body": "edited"})

    after = await listing(bob, cid, updated_at={"gt": created[second]})
    before = await listing(bob, cid, updated_at={"lt": created[second]})

    assert [m["_id"] for m in after] == [mid for mid in (third,) if created[mid] > created[second]]
    assert [m["_id"] for m in before] == [mid for mid in (first,) if created[mid] < created[second]]
    assert len(await listing(bob, cid, updated_at={"gt": 0})) == 3
    assert await listing(bob, cid, updated_at={"gt": now_ms() + 60_000}) == []
    error = await bob.error_of("message_list", {"cid": cid, "updated_at": {"gt": "yesterday"}})
    assert error["status"] == 422 and error["message"].startswith("Invalid 'updated_at.gt'")


async def test_message_list_refusals(server: ServerInfo) -> None:
    alice, bob, carol = await users(server, "alice", "bob", "carol")
    cid = await chat(alice, bob)

    assert await alice.error_of("message_list", {}) == {"status": 422, "message": "'cid' is required."}
    assert (await alice.error_of("message_list", {"cid": "123"}))["status"] == 422
    assert await carol.error_of("message_list", {"cid": cid}) == {"status": 403, "message": "Forbidden."}
    assert await alice.error_of("message_list", {"cid": new_id()}) == {
        "status": 404, "message": "Conversation not found."}


# -- message_read --------------------------------------------------------------------------------


async def test_read_tells_the_sender_and_flips_status_to_read(server: ServerInfo) -> None:
    alice = await server.user("alice")
    alice_tablet = await server.login("alice", device_id="alice-tablet")
    bob = await server.user("bob")
    cid = await chat(alice, bob, watchers=(alice_tablet,))
    first, second = [(await send(alice, cid, f"m{n}"))["server_mid"] for n in range(2)]
    await bob.settle()
    await alice_tablet.settle()
    assert [m["status"] for m in await listing(alice, cid)] == ["sent", "sent"]

    assert (await bob.request("message_read", {"cid": cid, "ids": [first]}))["success"] is True

    event = {"cid": cid, "ids": [first], "from": uid(bob)}
    assert await alice.event("message_read") == event
    assert await alice_tablet.event("message_read") == event
    assert await bob.settle() == []
    assert {m["_id"]: m["status"] for m in await listing(alice, cid)} == {first: "read", second: "sent"}

    await bob.request("message_read", {"cid": cid})  # no ids: everything still unread

    assert await alice.event("message_read") == {"cid": cid, "ids": [second], "from": uid(bob)}
    assert [m["status"] for m in await listing(bob, cid)] == ["read", "read"]


async def test_read_all_tells_each_sender_only_about_their_messages(server: ServerInfo) -> None:
    alice, bob, carol = await users(server, "alice", "bob", "carol")
    cid = await chat(alice, bob, carol)
    a1 = (await send(alice, cid, "a1"))["server_mid"]
    b1 = (await send(bob, cid, "b1"))["server_mid"]
    a2 = (await send(alice, cid, "a2"))["server_mid"]
    for client in (alice, bob, carol):
        await client.settle()

    await carol.request("message_read", {"cid": cid})

    assert await alice.event("message_read") == {"cid": cid, "ids": [a1, a2], "from": uid(carol)}
    assert await bob.event("message_read") == {"cid": cid, "ids": [b1], "from": uid(carol)}
    assert await carol.settle() == []
    await carol.request("message_read", {"cid": cid})  # nothing new: nobody is told again
    assert await alice.settle() == [] and await bob.settle() == []


async def test_read_refusals(server: ServerInfo) -> None:
    alice, bob, carol = await users(server, "alice", "bob", "carol")
    cid = await chat(alice, bob)
    await send(alice, cid, "hi")

    assert await bob.error_of("message_read", {"ids": []}) == {"status": 422, "message": "'cid' is required."}
    assert (await bob.error_of("message_read", {"cid": cid, "ids": ["nope"]}))["message"].startswith(
        "Invalid 'ids.0'")
    assert await carol.error_of("message_read", {"cid": cid}) == {"status": 403, "message": "Forbidden."}
    assert await alice.settle() == []


# -- message_edit --------------------------------------------------------------------------------


async def test_sender_edits_and_everyone_else_is_told(server: ServerInfo) -> None:
    alice = await server.user("alice")
    alice_tablet = await server.login("alice", device_id="alice-tablet")
    bob = await server.user("bob")
    cid = await chat(alice, bob, watchers=(alice_tablet,))
    mid = (await send(alice, cid, "typo"))["server_mid"]
    await bob.settle()
    await alice_tablet.settle()

    assert (await alice.request("message_edit", {"id": mid, "body": "fixed"}))["success"] is True

    event = {"id": mid, "cid": cid, "body": "fixed", "from": uid(alice)}
    assert await bob.event("message_edit") == event
    assert await alice_tablet.event("message_edit") == event
    assert await alice.settle() == []
    assert (await listing(bob, cid))[0]["body"] == "fixed"


async def test_edit_refusals(server: ServerInfo) -> None:
    alice, bob, carol = await users(server, "alice", "bob", "carol")
    cid = await chat(alice, bob)
    mid = (await send(alice, cid, "mine"))["server_mid"]
    dave = await other_org_user(server, "dave")
    await bob.settle()
    not_found = {"status": 422, "message": "Message ID not found."}

    assert await bob.error_of("message_edit", {"id": mid, "body": "hijack"}) == {
        "status": 403, "message": "Forbidden."}
    assert await carol.error_of("message_edit", {"id": mid, "body": "x"}) == not_found
    assert await dave.error_of("message_edit", {"id": mid, "body": "x"}) == not_found
    assert await alice.error_of("message_edit", {"id": new_id(), "body": "x"}) == not_found
    assert await alice.error_of("message_edit", {"id": mid, "cid": new_id(), "body": "x"}) == not_found
    assert await alice.error_of("message_edit", {"id": mid}) == {"status": 422, "message": "'body' is required."}
    assert await alice.error_of("message_edit", {"id": mid, "body": "  "}) == {
        "status": 422, "message": "Invalid 'body': must not be empty."}
    assert await alice.error_of("message_edit", {"body": "x"}) == {"status": 422, "message": "'id' is required."}
    assert await bob.settle() == []
    assert (await listing(bob, cid))[0]["body"] == "mine"


# -- message_delete ------------------------------------------------------------------------------


async def test_delete_for_myself_hides_only_for_the_caller(server: ServerInfo) -> None:
    alice = await server.user("alice")
    alice_tablet = await server.login("alice", device_id="alice-tablet")
    bob = await server.user("bob")
    cid = await chat(alice, bob, watchers=(alice_tablet,))
    first, second = [(await send(alice, cid, f"m{n}"))["server_mid"] for n in range(2)]
    for client in (bob, alice_tablet):
        await client.settle()

    await bob.request("message_delete", {"cid": cid, "ids": [first], "type": "myself"})

    assert [m["_id"] for m in await listing(bob, cid)] == [second]
    assert [m["_id"] for m in await listing(alice, cid)] == [second, first]
    for client in (alice, alice_tablet, bob):
        assert await client.settle() == []


async def test_delete_for_all_removes_for_everyone(server: ServerInfo) -> None:
    alice = await server.user("alice")
    alice_tablet = await server.login("alice", device_id="alice-tablet")
    bob = await server.user("bob")
    cid = await chat(alice, bob, watchers=(alice_tablet,))
    first, second, kept = [(await send(alice, cid, f"m{n}"))["server_mid"] for n in range(3)]
    for client in (bob, alice_tablet):
        await client.settle()

    assert (await alice.request("message_delete", {"cid": cid, "ids": [first, second], "type": "all"}))["success"]

    event = {"cid": cid, "ids": [first, second], "type": "all", "from": uid(alice)}
    assert await bob.event("message_delete") == event
    assert await alice_tablet.event("message_delete") == event
    assert await alice.settle() == []
    for client in (alice, bob):
        assert [m["_id"] for m in await listing(client, cid)] == [kept]


async def test_only_the_sender_deletes_for_all(server: ServerInfo) -> None:
    alice, bob = await server.user("alice"), await server.user("bob")
    cid = await chat(alice, bob)
    alices = (await send(alice, cid, "alice's"))["server_mid"]
    bobs = (await send(bob, cid, "bob's"))["server_mid"]
    await alice.settle()

    for ids in ([alices], [bobs, alices]):
        assert await bob.error_of("message_delete", {"cid": cid, "ids": ids, "type": "all"}) == {
            "status": 403, "message": "Forbidden."}

    assert await alice.settle() == []
    assert {m["_id"] for m in await listing(alice, cid)} == {alices, bobs}


async def test_delete_refusals(server: ServerInfo) -> None:
    alice, bob, carol = await users(server, "alice", "bob", "carol")
    cid = await chat(alice, bob)
    mid = (await send(alice, cid, "x"))["server_mid"]
    await bob.event("message", _id=mid)
    dave = await other_org_user(server, "dave")

    async def refusal(client: ChatClient, **payload: Any) -> dict[str, Any]:
        return await client.error_of("message_delete", payload)

    assert await refusal(alice, ids=[mid], type="all") == {"status": 422, "message": "'cid' is required."}
    assert await refusal(alice, cid=cid, type="all") == {"status": 422, "message": "'ids' is required."}
    assert await refusal(alice, cid=cid, ids=[mid]) == {"status": 422, "message": "'type' is required."}
    assert (await refusal(alice, cid=cid, ids=[], type="all"))["message"].startswith("Invalid 'ids'")
    assert (await refusal(alice, cid=cid, ids=[mid] * 101, type="all"))["message"].startswith("Invalid 'ids'")
    assert (await refusal(alice, cid=cid, ids=[mid], type="everyone"))["message"].startswith("Invalid 'type'")
    assert await refusal(carol, cid=cid, ids=[mid], type="myself") == {"status": 403, "message": "Forbidden."}
    assert await refusal(dave, cid=cid, ids=[mid], type="all") == {
        "status": 404, "message": "Conversation not found."}
    assert await bob.settle() == []
    assert [m["_id"] for m in await listing(bob, cid)] == [mid]
