"""Files in messages: a message may only reference files its sender can see in their organization,
and sending a file lets the conversation's participants download it."""

from __future__ import annotations

from tests.chat_helpers import chat, other_org_user, send, send_error, users
from tests.client import ServerInfo
from tests.e2e.file_helpers import PNG, get, uploaded, urls
from tests.e2e.message_helpers import listing


async def test_a_file_is_visible_to_the_participants_of_the_conversations_it_was_sent_in(
    server: ServerInfo,
) -> None:
    alice, bob, carol = await users(server, "alice", "bob", "carol")
    cid = await chat(alice, bob)
    file = await uploaded(alice)
    assert await urls(bob, file["_id"]) == {}

    await send(alice, cid, "look", attachments=[{"file_id": file["_id"], "file_name": "1.png"}])

    received = await bob.event("message", cid=cid)
    assert received["attachments"] == [{"file_id": file["_id"], "file_name": "1.png"}]
    bob_url = (await urls(bob, file["_id"]))[file["_id"]]
    assert (await get(bob_url))[1] == PNG
    assert await urls(carol, file["_id"]) == {}


# -- files in messages ---------------------------------------------------------------------------------


async def test_message_with_another_organizations_file_is_refused_and_not_stored(server: ServerInfo) -> None:
    alice, bob = await users(server, "alice", "bob")
    mallory = await other_org_user(server, "mallory")
    cid = await chat(alice, bob)
    theirs = await uploaded(mallory)
    mine = await uploaded(alice)

    packet = await send_error(alice, {"cid": cid, "body": "x", "attachments": [
        {"file_id": mine["_id"], "file_name": "1.png"}, {"file_id": theirs["_id"], "file_name": "1.png"}]})

    assert packet["message"]["error"] == {"status": 422,
                                          "message": "Invalid 'attachments.1.file_id': no such file."}
    assert await listing(alice, cid) == []
    assert await bob.settle() == []
    assert await urls(bob, mine["_id"]) == {}


async def test_message_with_a_file_id_that_is_no_file_is_refused(server: ServerInfo) -> None:
    alice, bob = await users(server, "alice", "bob")
    cid = await chat(alice, bob)

    for file_id in ("0" * 24, "123_file_1", None, 42):
        packet = await send_error(alice, {"cid": cid, "attachments": [{"file_id": file_id, "file_name": "f"}]})
        assert packet["message"]["error"] == {
            "status": 422, "message": "Invalid 'attachments.0.file_id': no such file."}, file_id

    assert await listing(alice, cid) == []


async def test_attachments_without_a_file_id_carry_no_file_and_pass(server: ServerInfo) -> None:
    alice, bob = await users(server, "alice", "bob")
    cid = await chat(alice, bob)
    attachments = [{"name": "file_1", "size": 240, "content_type": "image/png"}]

    await send(alice, cid, body=None, attachments=attachments)

    assert (await bob.event("message", cid=cid))["attachments"] == attachments


async def test_message_cannot_reference_a_file_the_sender_cannot_see(server: ServerInfo) -> None:
    alice, bob, carol = await users(server, "alice", "bob", "carol")
    private = await uploaded(alice)
    cid = await chat(carol, bob)

    packet = await send_error(carol, {"cid": cid, "attachments": [{"file_id": private["_id"]}]})

    assert packet["message"]["error"]["status"] == 422


async def test_a_received_file_can_be_forwarded_to_another_conversation(server: ServerInfo) -> None:
    alice, bob, carol = await users(server, "alice", "bob", "carol")
    first, second = await chat(alice, bob), await chat(bob, carol)
    file = await uploaded(alice)
    await send(alice, first, attachments=[{"file_id": file["_id"], "file_name": "1.png"}])

    await send(bob, second, attachments=[{"file_id": file["_id"], "file_name": "1.png"}])

    assert list(await urls(carol, file["_id"])) == [file["_id"]]
