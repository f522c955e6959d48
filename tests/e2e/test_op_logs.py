"""The operations log over the real socket: what an offline user missed, listed by `op_log_list`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from schemas.common import is_object_id, now_ms
from tests.chat_helpers import chat, send, uid, users
from tests.client import ChatClient, ServerInfo
from tests.conftest import make_settings, start_server
from tests.e2e.message_helpers import ms


async def go_offline(server: ServerInfo, client: ChatClient) -> None:
    """Logs the device out over HTTP: its socket is closed and it counts as offline at once."""
    status, body, _ = await server.http("POST", "/logout", headers={"Authorization": f"Bearer {client.token}"})
    assert status == 200, body


async def op_logs(client: ChatClient, **created_at: int) -> list[dict[str, Any]]:
    return list((await client.request("op_log_list", {"created_at": created_at}))["logs"])


async def test_an_offline_user_finds_every_missed_event_in_order(server: ServerInfo) -> None:
    alice, bob, carol = await users(server, "alice", "bob", "carol")
    cid = await chat(alice, bob, carol)
    kept, deleted = (await send(alice, cid, "first"))["server_mid"], (await send(alice, cid, "second"))["server_mid"]
    bobs = [(await send(bob, cid, "from bob"))["server_mid"]]
    for client in (alice, bob, carol):
        await client.settle()
    await go_offline(server, bob)
    since = now_ms() - 1  # entries of this very millisecond count too

    await alice.request("message_edit", {"id": kept, "body": "first, edited"})
    edit = await carol.event("message_edit")
    await alice.request("message_delete", {"cid": cid, "ids": [deleted], "type": "all"})
    delete = await carol.event("message_delete")
    await alice.request("message_read", {"cid": cid, "ids": bobs})
    await alice.request("conversation_update", {"id": cid, "name": "renamed"})
    renamed = await carol.event("system_message")
    await alice.request("conversation_update", {"id": cid, "participants": {"remove": [uid(bob)]}})

    bob = await server.login("bob")
    logs = await op_logs(bob, gt=since)
    packets = [log["packet"] for log in logs]
    assert packets[:4] == [
        {"message_edit": edit}, {"message_delete": delete},
        {"message_read": {"cid": cid, "ids": bobs, "from": uid(alice)}},
        {"system_message": renamed},
    ]
    assert renamed["x"]["conversation_updated"]["name"] == "renamed"
    kicked = packets[4]["system_message"]
    assert len(packets) == 5 and kicked["cid"] == cid and kicked["from"] == uid(alice)
    assert uid(bob) not in kicked["x"]["conversation_kicked"]["participants"]

    created = [ms(log["created_at"]) for log in logs]
    assert created == sorted(created) and created[0] > since
    assert all(log["user_id"] == uid(bob) and is_object_id(log["_id"]) for log in logs)
    assert set(logs[0]) == {"_id", "user_id", "packet", "created_at"}


async def test_online_users_get_no_entries_and_each_user_sees_only_their_own(server: ServerInfo) -> None:
    alice, bob, carol, dave = await users(server, "alice", "bob", "carol", "dave")
    cid = await chat(alice, bob, carol)
    mid = (await send(alice, cid, "hi"))["server_mid"]
    await go_offline(server, bob)
    await go_offline(server, dave)  # not a participant: nothing to miss

    await alice.request("message_edit", {"id": mid, "body": "hi!"})
    await carol.event("message_edit")

    assert await op_logs(alice, gt=0) == []  # the editor's own (only, online) socket
    assert await op_logs(carol, gt=0) == []
    bob = await server.login("bob")
    assert [log["packet"]["message_edit"]["body"] for log in await op_logs(bob, gt=0)] == ["hi!"]
    dave = await server.login("dave")
    assert await op_logs(dave, gt=0) == []


async def test_entries_stay_after_listing_and_page_with_gt_and_lt(server: ServerInfo) -> None:
    alice, bob = await users(server, "alice", "bob")
    cid = await chat(alice, bob)
    mid = (await send(alice, cid, "v0"))["server_mid"]
    await go_offline(server, bob)
    for n in range(1, 4):
        await alice.request("message_edit", {"id": mid, "body": f"v{n}"})

    bob = await server.login("bob")

    def bodies(logs: list[dict[str, Any]]) -> list[str]:
        return [log["packet"]["message_edit"]["body"] for log in logs]

    everything = await op_logs(bob, gt=0)
    assert bodies(everything) == ["v1", "v2", "v3"]
    assert await op_logs(bob, gt=0) == everything  # listing removes nothing
    first, last = ms(everything[0]["created_at"]), ms(everything[-1]["created_at"])
    assert await op_logs(bob, lt=last) == [log for log in everything if ms(log["created_at"]) < last]
    assert await op_logs(bob, gt=first) == [log for log in everything if ms(log["created_at"]) > first]
    assert await op_logs(bob, gt=last) == []
    assert await op_logs(bob, lt=first) == []

    first_page = (await bob.request("op_log_list", {"created_at": {"gt": 0}, "limit": 1}))["logs"]
    assert first_page[0] == everything[0]


async def test_op_log_list_refusals(server: ServerInfo) -> None:
    alice = (await users(server, "alice"))[0]
    cases = [
        ({}, "'created_at' is required."),
        ({"created_at": {}}, "Invalid 'created_at': 'gt' or 'lt' is required."),
        ({"created_at": {"gt": "yesterday"}}, None),
        ({"created_at": {"lt": -1}}, None),
        ({"created_at": {"gt": 0}, "limit": 0}, None),
    ]
    for payload, message in cases:
        refused = await alice.error_of("op_log_list", payload)
        assert refused["status"] == 422
        if message is not None:
            assert refused["message"] == message
        else:
            assert refused["message"].startswith("Invalid '"), refused

    anonymous = await server.client()
    assert await anonymous.error_of("op_log_list", {"created_at": {"gt": 0}}) == {
        "status": 401, "message": "Unauthorized."}


async def test_entries_expire_after_the_configured_retention(tmp_path: Path) -> None:
    app, server = await start_server(make_settings(tmp_path / "data", op_log_ttl=0))
    try:
        alice, bob = await users(server, "alice", "bob")
        cid = await chat(alice, bob)
        mid = (await send(alice, cid, "v0"))["server_mid"]
        await go_offline(server, bob)
        await alice.request("message_edit", {"id": mid, "body": "v1"})

        bob = await server.login("bob")
        assert await op_logs(bob, gt=0) == []
    finally:
        for client in server.clients:
            await client.close()
        await app.stop()
