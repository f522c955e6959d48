"""Reading conversations over the socket: conversation_list, conversation_search and
get_participants_by_cids."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from schemas.common import iso, new_id, now_ms
from server.config import Settings
from tests.chat_helpers import group_id, org_of, other_organization, send, uid
from tests.client import ChatClient, ServerInfo
from tests.conftest import make_settings

PAGE = 3


@pytest.fixture
def server_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data", conversation_preload_count=PAGE)


async def set_activity(server: ServerInfo, owner: ChatClient, updated_at: dict[str, int]) -> None:
    """Puts the conversations' last activity at known instants (ms), so ordering never depends
    on how fast the test ran."""
    for cid, at in updated_at.items():
        await server.app.storage.conversations.update(org_of(owner), cid, {"updated_at": at})


async def listed(client: ChatClient, **payload: Any) -> list[dict[str, Any]]:
    return list((await client.request("conversation_list", payload))["conversations"])


# -- conversation_list ---------------------------------------------------------------------------


async def test_list_puts_latest_activity_first_and_a_message_bumps_a_conversation(server: ServerInfo) -> None:
    alice = await server.user("alice")
    bob = await server.user("bob")
    first, second, third = [await group_id(alice, bob, name=name) for name in ("A", "B", "C")]
    past = now_ms() - 60_000
    await set_activity(server, alice, {first: past, second: past + 1000, third: past + 2000})
    assert [c["_id"] for c in await listed(bob)] == [third, second, first]

    ask = await send(alice, first, "hi")

    conversations = await listed(bob)
    assert [c["_id"] for c in conversations] == [first, third, second]
    latest = conversations[0]
    assert latest["name"] == "A" and latest["type"] == "g" and latest["owner_id"] == uid(alice)
    assert latest["last_message"]["_id"] == ask["server_mid"]
    assert latest["last_message"]["body"] == "hi"
    assert latest["last_message"]["from"] == uid(alice)
    assert latest["last_message"]["t"] == ask["t"]
    assert latest["last_message"]["status"] == "sent"
    assert latest["unread_messages_count"] == 1
    assert all("last_message" not in c and c["unread_messages_count"] == 0 for c in conversations[1:])

    await alice.request("conversation_update", {"id": second, "description": "fresh"})

    assert [c["_id"] for c in await listed(alice)] == [second, first, third]


async def test_unread_count_follows_messages_arriving_and_being_read(server: ServerInfo) -> None:
    alice = await server.user("alice")
    bob = await server.user("bob")
    body = await alice.request("conversation_create", {"type": "u", "participants": [uid(bob)]})
    cid = body["conversation"]["_id"]
    [conversation] = await listed(bob)
    assert conversation["unread_messages_count"] == 0 and "last_message" not in conversation

    await send(alice, cid, "first")
    await send(alice, cid, "second")

    [conversation] = await listed(bob)
    assert conversation["unread_messages_count"] == 2
    assert conversation["last_message"]["body"] == "second"
    assert (await listed(alice))[0]["unread_messages_count"] == 0

    await bob.request("message_read", {"cid": cid})

    assert (await listed(bob))[0]["unread_messages_count"] == 0
    [mine] = await listed(alice)
    assert mine["last_message"]["body"] == "second" and mine["last_message"]["status"] == "read"

    await send(bob, cid, "reply")

    assert (await listed(alice))[0]["unread_messages_count"] == 1
    assert (await listed(bob))[0]["unread_messages_count"] == 0


async def test_list_limit_is_capped_at_the_page_size(server: ServerInfo) -> None:
    alice = await server.user("alice")
    bob = await server.user("bob")
    for name in ("A", "B", "C", "D"):
        await group_id(alice, bob, name=name)

    assert len(await listed(alice)) == PAGE
    assert len(await listed(alice, limit=100)) == PAGE
    assert [c["name"] for c in await listed(alice, limit=2)] == ["D", "C"]
    for bad in (0, -1, "2", 1.5):
        refusal = await alice.error_of("conversation_list", {"limit": bad})
        assert refusal["status"] == 422 and refusal["message"].startswith("Invalid 'limit'")


async def test_list_filters_on_updated_at(server: ServerInfo) -> None:
    alice = await server.user("alice")
    bob = await server.user("bob")
    first, second, third = [await group_id(alice, bob, name=name) for name in ("A", "B", "C")]
    await set_activity(server, alice, {first: 1_000_000, second: 2_000_000, third: 3_000_000})

    newer = await listed(alice, updated_at={"gt": 1_500_000})
    older = await listed(alice, updated_at={"lt": 2_500_000})
    between = await listed(alice, updated_at={"gt": 1_500_000, "lt": 2_500_000})

    assert [c["_id"] for c in newer] == [third, second]
    assert [c["_id"] for c in older] == [second, first]
    assert [c["_id"] for c in between] == [second]
    assert between[0]["updated_at"] == iso(2_000_000)
    refusal = await alice.error_of("conversation_list", {"updated_at": {"gt": "yesterday"}})
    assert refusal["status"] == 422 and refusal["message"].startswith("Invalid 'updated_at.gt'")


async def test_list_shows_only_the_callers_conversations(server: ServerInfo) -> None:
    alice = await server.user("alice")
    bob = await server.user("bob")
    carol = await server.user("carol")
    org = await other_organization(server)
    outsider = await server.user("alice", organization_id=org.id)
    cid = await group_id(alice, bob, name="Team")

    assert [c["_id"] for c in await listed(bob)] == [cid]
    assert await listed(carol) == []
    assert await listed(outsider) == []


async def test_list_with_ids_answers_exactly_those_of_the_callers_conversations(server: ServerInfo) -> None:
    """The SAMA web app asks `conversation_list {ids}` for conversations it has ids of: it gets
    those it takes part in, newest activity first; others' and unknown ids are left out."""
    alice, bob, carol = await server.user("alice"), await server.user("bob"), await server.user("carol")
    first, second, third = [await group_id(alice, bob, name=name) for name in ("A", "B", "C")]
    theirs = await group_id(bob, carol, name="Not Alice's")
    past = now_ms() - 60_000
    await set_activity(server, alice, {first: past, second: past + 1000, third: past + 2000})

    answer = await listed(alice, ids=[first, theirs, new_id(), third, first])

    assert [c["_id"] for c in answer] == [third, first]
    assert all("unread_messages_count" in c for c in answer)


async def test_list_with_more_than_ten_ids_is_refused(server: ServerInfo) -> None:
    alice = await server.user("alice")

    error = await alice.error_of("conversation_list", {"ids": [new_id() for _ in range(11)]})

    assert error["status"] == 422 and "'ids'" in error["message"]
    assert await listed(alice, ids=[new_id() for _ in range(10)]) == []


# -- conversation_search -------------------------------------------------------------------------


async def test_search_matches_the_start_of_the_name_case_insensitively(server: ServerInfo) -> None:
    alice = await server.user("alice")
    bob = await server.user("bob")
    carol = await server.user("carol")
    alpha = await group_id(alice, bob, name="Project Alpha")
    beta = await group_id(alice, carol, name="project beta")
    await group_id(alice, bob, name="Other")
    await alice.request("conversation_create", {"type": "u", "participants": [uid(bob)]})
    await set_activity(server, alice, {alpha: 1_000_000, beta: 2_000_000})

    found = (await alice.request("conversation_search", {"name": "PROJ"}))["conversations"]

    assert [(c["_id"], c["name"]) for c in found] == [(beta, "project beta"), (alpha, "Project Alpha")]
    assert found[0]["type"] == "g" and found[0]["owner_id"] == uid(alice)
    for name, expected in {"project b": ["project beta"], "alpha": [], "Project Alpha!": [], "o": ["Other"]}.items():
        result = (await alice.request("conversation_search", {"name": name}))["conversations"]
        assert [c["name"] for c in result] == expected
    assert [c["_id"] for c in (await bob.request("conversation_search", {"name": "proj"}))["conversations"]] == [
        alpha]
    only_one = await alice.request("conversation_search", {"name": "proj", "limit": 1})
    assert [c["_id"] for c in only_one["conversations"]] == [beta]
    newer = await alice.request("conversation_search", {"name": "proj", "updated_at": {"lt": 1_500_000}})
    assert [c["_id"] for c in newer["conversations"]] == [alpha]


async def test_search_refuses_a_missing_name(server: ServerInfo) -> None:
    alice = await server.user("alice")

    assert await alice.error_of("conversation_search", {}) == {"status": 422, "message": "'name' is required."}
    assert (await alice.error_of("conversation_search", {"name": ""}))["message"].startswith("Invalid 'name'")
    assert (await alice.error_of("conversation_search", {"name": 5}))["message"].startswith("Invalid 'name'")


# -- get_participants_by_cids --------------------------------------------------------------------


async def test_participants_of_the_callers_conversations_only(server: ServerInfo) -> None:
    alice = await server.user("alice")
    bob = await server.user("bob")
    carol = await server.user("carol")
    team = await group_id(alice, bob, name="Team")
    private = (await alice.request("conversation_create", {"type": "u", "participants": [uid(carol)]}))[
        "conversation"]["_id"]
    foreign = await group_id(bob, carol, name="Without alice")

    body = await alice.request("get_participants_by_cids", {"cids": [team, private, foreign, new_id(), team]})

    assert body["conversations"] == {team: [uid(alice), uid(bob)], private: [uid(alice), uid(carol)]}
    assert sorted(user["_id"] for user in body["users"]) == sorted([uid(alice), uid(bob), uid(carol)])
    assert {user["login"] for user in body["users"]} == {"alice", "bob", "carol"}
    assert all("password_hash" not in user for user in body["users"])


async def test_participants_refusals_and_other_organizations(server: ServerInfo) -> None:
    alice = await server.user("alice")
    bob = await server.user("bob")
    org = await other_organization(server)
    outsider = await server.user("olga", organization_id=org.id)
    team = await group_id(alice, bob, name="Team")

    empty = await alice.request("get_participants_by_cids", {"cids": []})
    assert (empty["users"], empty["conversations"]) == ([], {})
    hidden = await outsider.request("get_participants_by_cids", {"cids": [team]})
    assert (hidden["users"], hidden["conversations"]) == ([], {})
    assert await alice.error_of("get_participants_by_cids", {}) == {"status": 422, "message": "'cids' is required."}
    assert (await alice.error_of("get_participants_by_cids", {"cids": ["x"]}))["message"].startswith(
        "Invalid 'cids.0'")
    too_many = await alice.error_of("get_participants_by_cids", {"cids": [new_id() for _ in range(101)]})
    assert too_many["status"] == 422 and too_many["message"].startswith("Invalid 'cids'")
