"""Blocks hold for the two packets addressed to users by id: `system_message` and `push_event_create`.

Alice blocks Bob. Whatever Bob sends that way reaches Alice neither on her socket nor at her push
endpoint; Carol, who blocked nobody, still gets it. Addressed to Alice alone (or, for
`system_message`, to the private chat they share) it is refused as a private message is.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from server.config import Settings
from tests.chat_helpers import chat, uid, users
from tests.client import ChatClient, ServerInfo
from tests.conftest import make_settings
from tests.e2e.push_helpers import StandInPushService, push_to, running_push_service, subscribe

BLOCKED = {"status": 422, "message": "Communication is not possible - you are in a block list of the recipient."}
_ids = itertools.count(1)


@pytest.fixture
def server_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data", push_allow_private_endpoints=True)  # the stand-in push service


@pytest.fixture
async def push_service() -> AsyncIterator[StandInPushService]:
    async with running_push_service() as service:
        yield service


async def blocked_trio(server: ServerInfo) -> tuple[ChatClient, ChatClient, ChatClient]:
    """alice, bob, carol, with alice blocking bob."""
    alice, bob, carol = await users(server, "alice", "bob", "carol")
    await alice.request("block_user", {"ids": [uid(bob)]})
    return alice, bob, carol


async def system_message(sender: ChatClient, **fields: Any) -> dict[str, Any]:
    """Sends a `system_message` and returns what answers it: the `ask`, or the error packet."""
    mid = f"sys-{next(_ids)}"
    await sender.send({"system_message": {"id": mid, "x": {"kind": "ping"}, **fields}})
    return await sender.wait_for(lambda p: p.get("ask", {}).get("mid") == mid
                                 or p.get("system_message", {}).get("id") == mid)


def system_messages(packets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [p["system_message"] for p in packets if "system_message" in p]


# -- system_message ------------------------------------------------------------------------------

async def test_blocker_gets_no_system_message_sent_to_uids_others_do(server: ServerInfo) -> None:
    alice, bob, carol = await blocked_trio(server)

    answer = await system_message(bob, uids=[uid(alice), uid(carol)])

    assert "ask" in answer
    assert (await carol.event("system_message", **{"from": uid(bob)}))["x"] == {"kind": "ping"}
    assert system_messages(await alice.settle()) == []


async def test_system_message_to_the_blocker_alone_is_refused(server: ServerInfo) -> None:
    alice, bob, _ = await blocked_trio(server)

    answer = await system_message(bob, uids=[uid(alice), uid(bob)])  # bob's own devices do not count

    assert answer["system_message"]["error"] == BLOCKED
    assert system_messages(await alice.settle()) == []


async def test_system_message_in_a_private_chat_with_the_blocker_is_refused(server: ServerInfo) -> None:
    alice, bob, _ = await blocked_trio(server)
    cid = await chat(alice, bob)

    answer = await system_message(bob, cid=cid)

    assert answer["system_message"]["error"] == BLOCKED
    assert system_messages(await alice.settle()) == []


async def test_blocker_gets_no_system_message_in_a_group_others_do(server: ServerInfo) -> None:
    alice, bob, carol = await blocked_trio(server)
    cid = await chat(carol, alice, bob)

    answer = await system_message(bob, cid=cid)

    assert "ask" in answer
    assert (await carol.event("system_message", cid=cid, **{"from": uid(bob)}))["x"] == {"kind": "ping"}
    assert system_messages(await alice.settle()) == []


async def test_the_blocker_can_still_send_system_messages_to_the_blocked_user(server: ServerInfo) -> None:
    alice, bob, _ = await blocked_trio(server)

    assert "ask" in await system_message(alice, uids=[uid(bob)])
    assert (await bob.event("system_message", **{"from": uid(alice)}))["x"] == {"kind": "ping"}


# -- push_event_create ---------------------------------------------------------------------------

async def test_blocker_gets_no_push_from_the_blocked_user_others_do(
    server: ServerInfo, push_service: StandInPushService
) -> None:
    alice, bob, carol = await blocked_trio(server)
    dave = await server.user("dave")
    await subscribe(alice, push_service, "alice")
    carol_browser = await subscribe(carol, push_service, "carol")
    await subscribe(dave, push_service, "dave")

    event = await push_to(bob, alice, carol, title="from bob")
    await push_to(carol, dave, title="sentinel")  # the queue delivers events in order: bob's first

    assert event["recipients_ids"] == [uid(carol)]
    requests = await push_service.requests_until("dave")
    assert [r.name for r in requests] == ["carol", "dave"]
    assert carol_browser.decrypt(requests[0])["title"] == "from bob"


async def test_push_to_the_blocker_alone_is_refused(server: ServerInfo, push_service: StandInPushService) -> None:
    alice, bob, carol = await blocked_trio(server)
    await subscribe(alice, push_service, "alice")
    await subscribe(carol, push_service, "carol")

    error = await bob.error_of("push_event_create", {"recipients_ids": [uid(alice)], "message": {"title": "t"}})
    await push_to(bob, carol, title="sentinel")

    assert error == BLOCKED
    assert [r.name for r in await push_service.requests_until("carol")] == ["carol"]


async def test_the_blocker_can_still_push_to_the_blocked_user(
    server: ServerInfo, push_service: StandInPushService
) -> None:
    alice, bob, _ = await blocked_trio(server)
    await subscribe(bob, push_service, "bob")

    await push_to(alice, bob, title="from alice")

    assert (await push_service.next_request()).name == "bob"
