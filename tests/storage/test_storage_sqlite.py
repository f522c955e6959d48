"""Behaviour only the SQLite adapter has: a file that outlives the process and is shared by several."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from schemas.common import new_id
from schemas.documents import Conversation, DeviceSession, Message, Organization, User
from storage.sqlite.adapter import SqliteStorage

# A table scan, or an index lookup on the organization alone (which walks a whole organization).
WHOLE_SCAN = re.compile(
    r"^SCAN (?!json_each\b|asked\b|a\b|CONSTANT\b)\w+|USING (COVERING )?INDEX \w+ \(organization_id=\?\)$"
)


@pytest.fixture
async def sqlite_storage(tmp_path: Path) -> AsyncIterator[SqliteStorage]:
    storage = SqliteStorage(tmp_path / "chat.sqlite3")
    await storage.open()
    yield storage
    await storage.close()


def _user(organization_id: str, login: str) -> User:
    return User(id=new_id(), organization_id=organization_id, login=login, password_hash="h",
                first_name=login.title(), email=f"{login}@example.com", created_at=1, updated_at=1)


def _conversation(organization_id: str, owner_id: str, name: str = "Team") -> Conversation:
    return Conversation(id=new_id(), organization_id=organization_id, type="g", name=name, owner_id=owner_id,
                        created_at=1, updated_at=1)


def _message(conversation: Conversation, from_id: str, at: int = 1_000) -> Message:
    return Message(id=new_id(), organization_id=conversation.organization_id, cid=conversation.id,
                   from_id=from_id, body="hi", t=at // 1000, seq=0, created_at=at, updated_at=at)


async def _post(storage: SqliteStorage, conversation: Conversation, from_id: str, at: int = 1_000) -> Message:
    return await storage.messages.append(_message(conversation, from_id, at))


async def test_data_survives_closing_and_reopening_the_file(tmp_path: Path) -> None:
    path = tmp_path / "chat.sqlite3"
    first = SqliteStorage(path)
    await first.open()
    default = await first.organizations.ensure_default()
    alice = await first.users.create(_user(default.id, "alice"))
    conversation = await first.conversations.create(_conversation(default.id, alice.id), [alice.id])
    message = await _post(first, conversation, alice.id)
    await first.close()

    second = SqliteStorage(path)
    await second.open()
    try:
        assert await second.organizations.ensure_default() == default
        assert await second.users.get(default.id, alice.id) == alice
        assert await second.conversations.participant_ids(default.id, conversation.id) == [alice.id]
        assert await second.messages.get(default.id, message.id) == message
        assert (await _post(second, conversation, alice.id, 2)).seq == 2
    finally:
        await second.close()


async def test_two_storages_on_one_file_write_concurrently_without_failing(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    nodes = [SqliteStorage(path), SqliteStorage(path)]
    for node in nodes:
        await node.open()
    try:
        default = await nodes[0].organizations.ensure_default()
        assert (await nodes[1].organizations.ensure_default()).id == default.id
        conversation = await nodes[0].conversations.create(_conversation(default.id, new_id()), [])

        async def write(node: SqliteStorage, name: str) -> int:
            await node.users.create(_user(default.id, name))
            return (await _post(node, conversation, name)).seq

        seqs = await asyncio.gather(
            *(write(node, f"user{index}n{number}") for number, node in enumerate(nodes) for index in range(50))
        )

        assert sorted(seqs) == list(range(1, 101))
        found = await nodes[1].users.search(default.id, "user", ignore_ids=[], updated_gt=None,
                                            updated_lt=None, limit=1000)
        assert len(found) == 100
        stored = await nodes[1].messages.page(default.id, conversation.id, "reader", created_gt=None,
                                              created_lt=None, ids=None, limit=1000)
        assert sorted(message.seq for message in stored) == list(range(1, 101))
    finally:
        for node in nodes:
            await node.close()


async def _exercise_every_method(storage: SqliteStorage) -> None:
    organizations, users, conversations, messages = (
        storage.organizations, storage.users, storage.conversations, storage.messages
    )
    org = await organizations.ensure_default()
    await organizations.create(Organization(id=new_id(), name="Other", created_at=1, updated_at=1))
    await organizations.get(org.id)
    alice = await users.create(_user(org.id, "alice"))
    bob = await users.create(_user(org.id, "bob"))
    await users.get(org.id, alice.id)
    await users.get_many(org.id, [alice.id, bob.id])
    await users.find_by_login(org.id, "alice")
    await users.update(org.id, alice.id, {"last_name": "Smith", "phone": "+1"})
    await users.set_recent_activity(org.id, alice.id, 5)
    await users.search(org.id, "al", ignore_ids=[bob.id], updated_gt=0, updated_lt=None, limit=10)
    session = DeviceSession(user_id=alice.id, organization_id=org.id, device_id="d", access_jti="a",
                            updated_at=1)
    await storage.devices.upsert(session)
    await storage.devices.upsert(session)
    await storage.devices.get(alice.id, "d")
    await storage.devices.delete(alice.id, "d")
    await storage.devices.delete_for_user(alice.id)
    group = await conversations.create(_conversation(org.id, alice.id), [alice.id])
    await conversations.get(org.id, group.id)
    await conversations.find_private(org.id, f"{alice.id}:{bob.id}")
    await conversations.update(org.id, group.id, {"name": "Renamed", "updated_at": 2})
    await conversations.add_participants(org.id, group.id, [bob.id], 3)
    await conversations.list_for_user(org.id, alice.id, updated_gt=0, updated_lt=10**15, limit=10)
    await conversations.search_for_user(org.id, alice.id, "ren", updated_gt=None, updated_lt=None, limit=10)
    await conversations.participant_ids(org.id, group.id)
    await conversations.is_participant(org.id, group.id, bob.id)
    await conversations.participant_ids_by_cids(org.id, [group.id])
    sent = [await _post(storage, group, alice.id, at) for at in (1_000, 2_000, 3_000)]
    await messages.get(org.id, sent[0].id)
    await messages.get_many(org.id, group.id, [m.id for m in sent])
    await messages.page(org.id, group.id, bob.id, created_gt=0, created_lt=5_000, ids=[sent[0].id], limit=5)
    other = await conversations.create(_conversation(org.id, bob.id, "Other"), [alice.id, bob.id])
    await _post(storage, other, bob.id, 4_000)
    await messages.last_visible_many(org.id, [group.id, other.id, new_id()], bob.id)
    await messages.update_body(org.id, sent[0].id, "edited", 9)
    await messages.hide_for(org.id, group.id, [sent[0].id], bob.id)
    await messages.mark_read(org.id, group.id, bob.id, [sent[1].id], sent[1].seq)
    await messages.unread_counts(org.id, [group.id, other.id, new_id()], bob.id)
    await messages.unread_count(org.id, group.id, bob.id)
    await messages.mark_read(org.id, group.id, bob.id, None, sent[2].seq)
    await messages.read_by_others(org.id, sent)
    await messages.delete(org.id, group.id, [sent[2].id])
    await conversations.remove_participants(org.id, group.id, [bob.id])
    await conversations.remove_user_everywhere(org.id, alice.id)
    await conversations.delete(org.id, group.id)
    await users.delete(org.id, bob.id)


async def test_no_query_scans_a_whole_table(sqlite_storage: SqliteStorage) -> None:
    statements: list[str] = []
    db = sqlite_storage._db  # the adapter's connections, traced to see every statement they run
    for connection in (db._reader, db._writer):
        assert connection is not None
        await connection.set_trace_callback(statements.append)

    await _exercise_every_method(sqlite_storage)

    checked = [s for s in statements if re.match(r"\s*(SELECT|UPDATE|DELETE|WITH|INSERT .* SELECT)", s, re.S)]
    assert len(checked) > 30
    with sqlite3.connect(sqlite_storage.path) as inspector:
        scans = {
            statement: detail
            for statement in checked
            for *_, detail in inspector.execute("EXPLAIN QUERY PLAN " + statement)
            if WHOLE_SCAN.search(detail)
        }
    assert scans == {}
