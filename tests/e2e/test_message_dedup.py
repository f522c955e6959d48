"""Idempotent sends over real sockets: a `message` resent with the same client id (after a lost
`ask`, a crash, on another device or after a restart) is answered with the first `ask` and
delivered once; after `message_dedup_ttl` the id is free again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import handlers.messages
from server.config import Settings
from tests.chat_helpers import chat, send, uid, users
from tests.client import ChatClient, ServerInfo
from tests.conftest import make_settings, start_server
from tests.e2e.message_helpers import listing
from tests.e2e.push_helpers import StandInPushService, go_offline, running_push_service, subscribe

ADMIN_KEY = "dedup-admin-key"
TTL = 60  # seconds


@pytest.fixture
def server_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data", message_dedup_ttl=TTL, admin_api_key=ADMIN_KEY,
                         push_retry_delay=0.0, push_allow_private_endpoints=True)


@pytest.fixture
async def push_service() -> AsyncIterator[StandInPushService]:
    async with running_push_service() as service:
        yield service


async def ask_of(client: ChatClient, cid: str, mid: str, body: str = "hello", **fields: Any) -> dict[str, Any]:
    """Sends `message` with the client id `mid` and returns its `ask`."""
    await client.send({"message": {"id": mid, "cid": cid, "body": body, **fields}})
    return await client.event("ask", mid=mid)


def message_events(packets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [packet["message"] for packet in packets if "message" in packet and "_id" in packet["message"]]


async def test_resend_gets_the_first_ask_and_nobody_gets_the_message_twice(server: ServerInfo) -> None:
    alice, bob = await users(server, "alice", "bob")
    laptop = await server.login("alice")
    cid = await chat(alice, bob, watchers=(laptop,))

    first = await ask_of(alice, cid, "c-1", "the original")
    assert (await bob.event("message", _id=first["server_mid"]))["body"] == "the original"
    await laptop.event("message", _id=first["server_mid"])  # the carbon
    resent = await ask_of(alice, cid, "c-1", "edited while offline")

    assert resent == first and resent["mid"] == "c-1"
    for device in (bob, laptop, alice):
        assert message_events(await device.settle()) == []
    assert [(m["_id"], m["body"], m["t"]) for m in await listing(bob, cid)] == [
        (first["server_mid"], "the original", first["t"])]


async def test_concurrent_sends_of_one_id_from_two_devices_store_one_message(server: ServerInfo) -> None:
    alice, bob = await users(server, "alice", "bob")
    laptop = await server.login("alice")
    cid = await chat(alice, bob, watchers=(laptop,))

    asks = await asyncio.gather(ask_of(alice, cid, "c-1", "from the phone"),
                                ask_of(laptop, cid, "c-1", "from the laptop"))

    assert asks[0] == asks[1]
    delivered = await bob.event("message", _id=asks[0]["server_mid"])
    assert message_events(await bob.settle()) == []
    carbons = message_events(await alice.settle()) + message_events(await laptop.settle())
    assert carbons == [delivered]  # the device whose send was stored got no carbon, the other one did
    assert [m["_id"] for m in await listing(bob, cid)] == [asks[0]["server_mid"]]


async def test_the_id_is_per_sender_and_conversation(server: ServerInfo) -> None:
    alice, bob, carol = await users(server, "alice", "bob", "carol")
    cid = await chat(alice, bob)
    other = await chat(alice, carol)

    asks = [await ask_of(alice, cid, "same"), await ask_of(bob, cid, "same"), await ask_of(alice, other, "same")]

    assert len({ask["server_mid"] for ask in asks}) == 3
    assert len(await listing(alice, cid)) == 2 and len(await listing(alice, other)) == 1


async def test_a_refused_send_keeps_its_id_free(server: ServerInfo) -> None:
    alice, bob = await users(server, "alice", "bob")
    cid = await chat(alice, bob)
    await alice.send({"message": {"id": "c-1", "cid": cid, "body": "   "}})
    refused = await alice.wait_for(lambda p: p.get("message", {}).get("id") == "c-1")
    assert refused["message"]["error"]["status"] == 422

    ask = await ask_of(alice, cid, "c-1", "now with text")

    assert (await bob.event("message", _id=ask["server_mid"]))["body"] == "now with text"


async def test_resend_of_a_deleted_message_answers_the_first_ask_and_brings_nothing_back(server: ServerInfo) -> None:
    alice, bob = await users(server, "alice", "bob")
    cid = await chat(alice, bob)
    first = await ask_of(alice, cid, "c-1", "regretted")
    await alice.request("message_delete", {"cid": cid, "ids": [first["server_mid"]], "type": "all"})
    await bob.event("message_delete", cid=cid)
    await bob.settle()

    assert await ask_of(alice, cid, "c-1", "regretted") == first

    assert message_events(await bob.settle()) == []
    assert await listing(bob, cid) == []


async def test_resend_to_an_offline_recipient_pushes_once(
    server: ServerInfo, push_service: StandInPushService
) -> None:
    alice, bob = await users(server, "alice", "bob")
    await subscribe(bob, push_service, "bob")
    cid = await chat(alice, bob)
    await go_offline(bob)

    first = await ask_of(alice, cid, "c-1", "are you there?")
    assert (await push_service.next_request()).name == "bob"
    assert await ask_of(alice, cid, "c-1", "are you there?") == first
    await send(alice, cid, "sentinel")
    await push_service.next_request()  # the sentinel's push: the resend's would have come before it

    assert push_service.received.empty()
    bob = await server.login("bob")
    assert [m["body"] for m in await listing(bob, cid)] == ["sentinel", "are you there?"]
    assert (await bob.request("op_log_list", {"created_at": {"gt": 0}}))["logs"] == []


async def test_resend_after_the_window_is_a_new_message(server: ServerInfo, monkeypatch: pytest.MonkeyPatch) -> None:
    alice, bob = await users(server, "alice", "bob")
    cid = await chat(alice, bob)
    real_now = handlers.messages.now_ms
    first = await ask_of(alice, cid, "c-1", "first")
    await bob.event("message", _id=first["server_mid"])

    monkeypatch.setattr(handlers.messages, "now_ms", lambda: real_now() + (TTL - 1) * 1000)
    assert await ask_of(alice, cid, "c-1", "still within the window") == first
    monkeypatch.setattr(handlers.messages, "now_ms", lambda: real_now() + (TTL + 1) * 1000)
    later = await ask_of(alice, cid, "c-1", "after the window")

    assert later["server_mid"] != first["server_mid"]
    assert (await bob.event("message", _id=later["server_mid"]))["body"] == "after the window"
    assert message_events(await bob.settle()) == []
    assert [m["body"] for m in await listing(bob, cid)] == ["after the window", "first"]
    # the new send holds the id for a window of its own
    assert await ask_of(alice, cid, "c-1", "again") == later


async def test_resend_after_a_restart_gets_the_first_ask(tmp_path: Path) -> None:
    # The embedded store only: mongomock cannot reopen a database that holds users (re-creating
    # the partial unique indexes of storage/mongo/users.py raises a duplicate key error there).
    settings = make_settings(tmp_path / "data", message_dedup_ttl=TTL)
    app, info = await start_server(settings)
    try:
        alice, bob = await users(info, "alice", "bob")
        cid = await chat(alice, bob)
        first = await ask_of(alice, cid, "c-1", "before the restart")
    finally:
        for client in info.clients:
            await client.close()
        await app.stop()

    app, info = await start_server(settings)  # a new server on the same DATA_DIR
    try:
        bob = await info.login("bob")
        alice = await info.login("alice")
        assert await ask_of(alice, cid, "c-1", "before the restart") == first
        assert message_events(await bob.settle()) == []
        assert [m["_id"] for m in await listing(bob, cid)] == [first["server_mid"]]
    finally:
        for client in info.clients:
            await client.close()
        await app.stop()


async def test_admin_resend_with_the_same_id_is_answered_once(server: ServerInfo) -> None:
    alice, bob = await users(server, "alice", "bob")
    cid = await chat(alice, bob)
    body = {"organizationId": alice.user["organization_id"] if alice.user else None, "senderId": uid(alice),
            "message": {"id": "integration-7", "cid": cid, "body": "from the back office"}}

    answers = [await server.http("POST", "/admin/message", json=body, headers={"Admin-Api-Key": ADMIN_KEY})
               for _ in range(2)]

    assert [status for status, _, _ in answers] == [200, 200]
    assert answers[0][1] == answers[1][1] and answers[0][1]["ask"]["mid"] == "integration-7"
    await bob.event("message", _id=answers[0][1]["ask"]["server_mid"])
    await alice.event("message", _id=answers[0][1]["ask"]["server_mid"])  # the sender's device: a carbon
    assert message_events(await bob.settle()) == [] and message_events(await alice.settle()) == []
    # the socket and the admin API share the key: the sender's own resend gets the same ask
    assert await ask_of(alice, cid, "integration-7", "from the back office") == answers[0][1]["ask"]
